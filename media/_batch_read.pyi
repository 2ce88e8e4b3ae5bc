from array import array

def read_batch(context: int, packet: int, read_frame: int, unref: int, wanted: bytes, data: bytearray,
               meta: array[int], window_us: int, pending: bool, /) -> tuple[int, int, int, bool]: ...
