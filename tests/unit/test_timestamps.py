from domain.timestamps import Stamp, backfill, is_discontinuity


def test_rtsp_keyframe_without_timestamps_is_stamped_one_frame_before() -> None:
    assert backfill([Stamp(None, None)], next_dts=3600, frame_ticks=3600) == [(0, 0)]


def test_b_frame_stream_with_missing_dts_gets_increasing_dts_and_pts_not_before_dts() -> None:
    # What FFmpeg's RTSP client returns for x264 with 2 B-frames (measured):
    # I(None, None) P(10800, None) B(3600, None) then B(7200, dts=3600)
    held = [Stamp(None, None), Stamp(10800, None), Stamp(3600, None)]
    stamped = backfill(held, next_dts=3600, frame_ticks=3600)
    assert stamped == [(0, -7200), (10800, -3600), (3600, 0)]
    dts = [d for _, d in stamped] + [3600]
    assert dts == sorted(dts) and len(set(dts)) == len(dts)
    assert all(p >= d for p, d in stamped)


def test_discontinuities() -> None:
    assert not is_discontinuity(100.0, 100.04)
    assert not is_discontinuity(100.0, 99.5)  # reordering glitch: drop the packet, keep the run
    assert is_discontinuity(100.0, 0.0)  # timestamp reset
    assert is_discontinuity(100.0, 200.0)  # jump
