"""A live viewer's queue: starts at a keyframe, stays bounded, never loses its init segment."""

from __future__ import annotations

from domain.viewer_queue import Outgoing, ViewerQueue


def frame(seq: int, key: bool = False, size: int = 100) -> Outgoing:
    return Outgoing(b"x" * size, keyframe=key, seq=seq)


INIT = Outgoing(b"init", is_init=True)


def test_a_viewer_starts_at_a_keyframe_with_the_init_segment_first() -> None:
    queue = ViewerQueue()
    queue.put(INIT)
    queue.put(frame(1))
    queue.put(frame(2, key=True))
    queue.put(frame(3))
    assert [(o.is_init, o.seq) for o in queue.take()] == [(True, 0), (False, 2), (False, 3)]
    assert queue.dropped == 1 and queue.take() == []


def test_a_slow_viewer_skips_to_the_next_keyframe_and_memory_stays_bounded() -> None:
    queue = ViewerQueue(max_bytes=1000, max_items=50)
    queue.put(INIT)
    queue.put(frame(1, key=True))
    for seq in range(2, 200):  # nobody takes: the viewer is stuck
        queue.put(frame(seq, key=seq % 30 == 0, size=20))
        assert queue._bytes <= 1000 and len(queue) <= 50
    init, *sent = queue.take()
    assert init == INIT, "the unsent init segment survives the drop"
    assert sent[0].keyframe and sent[0].seq % 30 == 0, "resumes at a keyframe"
    assert [o.seq for o in sent] == list(range(sent[0].seq, 200)) and len(sent) <= 50
    assert queue.dropped == 199 - len(sent)


def test_a_new_init_goes_out_before_the_fragments_that_need_it() -> None:
    queue = ViewerQueue()
    queue.put(INIT)
    queue.put(frame(1, key=True))
    queue.take()
    queue.put(Outgoing(b"init2", is_init=True))
    queue.put(frame(2, key=True))
    assert [o.data for o in queue.take()] == [b"init2", b"x" * 100]
