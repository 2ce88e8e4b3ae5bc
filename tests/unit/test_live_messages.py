"""A live viewer's pending fragments as WebSocket messages, and how often a viewer is sent one."""

from __future__ import annotations

import io
from pathlib import Path

import av

from domain.live_messages import live_messages, send_interval_s
from domain.viewer_queue import Outgoing, ViewerQueue
from tests.unit.test_live_feed import Watching, _feed_through_recording


def frame(seq: int, key: bool = False, size: int = 100) -> Outgoing:
    return Outgoing(bytes([seq % 256]) * size, keyframe=key, seq=seq, received_at=1000.0 + seq)


INIT = Outgoing(b"\0\0\0\x10ftypinit", is_init=True)


def test_pending_fragments_go_out_as_one_message_and_an_init_always_alone() -> None:
    items = [INIT, frame(1, key=True), frame(2), frame(3), INIT, frame(4, key=True), frame(5)]
    messages = live_messages(items)
    assert [[p.seq for p in m.pieces] for m in messages] == [[0], [1, 2, 3], [0], [4, 5]]
    assert [m.is_init for m in messages] == [True, False, True, False]
    assert messages[0].data == INIT.data and messages[0].data[4:8] == b"ftyp"
    assert messages[1].data == frame(1, True).data + frame(2).data + frame(3).data
    meta = messages[1].meta()
    assert (meta["seq"], meta["keyframe"], meta["init"], meta["received_at"]) == (1, True, False, 1001.0)
    assert meta["pieces"] == [{"seq": s, "keyframe": s == 1, "received_at": 1000.0 + s, "bytes": 100} for s in (1, 2, 3)]


def test_a_viewer_that_keeps_up_gets_each_fragment_alone() -> None:
    alone = frame(7)
    (message,) = live_messages([alone])
    assert message.pieces == (alone,) and message.data is alone.data, "sent as it is, no copy"


def test_a_message_is_cut_at_its_byte_bound() -> None:
    messages = live_messages([frame(s, key=s == 1, size=400) for s in range(1, 8)], max_bytes=1000)
    assert [[p.seq for p in m.pieces] for m in messages] == [[1, 2], [3, 4], [5, 6], [7]]
    assert live_messages([]) == []


def test_a_crowd_makes_messages_rarer_within_the_ingress_budget_and_a_few_viewers_keep_the_floor() -> None:
    assert send_interval_s(16, 1, 0.1, 800) == 0.1
    assert send_interval_s(100, 2, 0.1, 800) == 0.25  # ?meta=1 doubles what goes through the ingress
    assert send_interval_s(400, 1, 0.04, 800) == 0.5
    assert send_interval_s(100, 1, 0.0, 0) == 0.0  # no budget: the floor alone


def test_a_viewer_behind_resumes_at_a_keyframe_in_one_message_that_decodes(tmp_path: Path) -> None:
    """The queue (domain/viewer_queue.py) drops what a stuck viewer has pending and waits for a keyframe; what it
    sends next, batched, is an fMP4 stream a decoder opens from its first byte."""
    live = Watching()
    _feed_through_recording(tmp_path, live, loops=3)  # 12 s, 2 s GOPs
    pieces = live.read
    (init,) = live.inits.values()
    assert pieces[0].keyframe
    keyframes = [p.seq for p in pieces if p.keyframe]
    assert len(keyframes) >= 2, "the clip has at least two GOPs"
    queue = ViewerQueue(max_bytes=sum(len(p.data) for p in pieces) // 2, max_items=10_000)
    queue.put(Outgoing(init, is_init=True))
    for p in pieces:  # nobody takes: the viewer is stuck and overflows mid-stream
        queue.put(Outgoing(p.data, keyframe=p.keyframe, seq=p.seq, received_at=p.received_at))
    messages = live_messages(queue.take())
    assert queue.dropped > 0 and messages[0].is_init and len(messages) == 2
    assert messages[1].pieces[0].keyframe and messages[1].pieces[0].seq in keyframes[1:]
    seqs = [p.seq for p in messages[1].pieces]
    assert seqs == list(range(seqs[0], pieces[-1].seq + 1)), "from the keyframe on, nothing lost or reordered"
    with av.open(io.BytesIO(messages[0].data + messages[1].data)) as container:
        assert sum(1 for _ in container.decode(video=0)) == len(seqs)

