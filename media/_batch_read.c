/* Reading several demuxed packets per GIL release: FFmpeg's av_read_frame in a C loop.
 *
 * media/lean_demux.py calls av_read_frame once per packet through ctypes: one GIL release and re-take per packet.
 * With dozens of cameras a host, re-taking the GIL mostly means waiting for another thread and a context switch
 * (docs/density.md). This loop keeps reading, with the GIL released, until a short window has passed since its first
 * packet (or the caller's buffer or packet count is full, or a read fails), so the ingest thread takes the GIL a
 * few times a second instead of once per frame. It knows FFmpeg only through what the caller hands it: the
 * functions (from the libraries PyAV loaded) and the AVPacket layout media/lean_demux.py also reads (used only
 * with the PyAV releases whose FFmpeg has it), so it builds without FFmpeg's headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

typedef int (*read_frame_fn)(void *context, void *packet);
typedef void (*unref_fn)(void *packet);

/* AVPacket's leading fields (FFmpeg 5 to 8): buf, pts, dts, data, size, stream_index, flags, …, duration. */
#define PTS_AT 8
#define DTS_AT 16
#define DATA_AT 24
#define SIZE_AT 32
#define STREAM_AT 36
#define FLAGS_AT 40
#define DURATION_AT 64
#define META_FIELDS 7 /* per packet: stream, pts, dts, duration, flags, offset, size */

static int64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* read_batch(context, packet, read_frame, unref, wanted, data, meta, window_us, pending)
 *     -> (packets, bytes, error, pending)
 *
 * Copies packets of the wanted streams into ``data`` (a writable buffer) and their fields into ``meta`` (int64
 * rows of META_FIELDS). ``pending``: the packet struct still holds a packet the previous call had no room for;
 * it is taken first. Returns how many packets and bytes were copied, FFmpeg's error (0: none; it ended the
 * batch), and whether a packet was left pending (too large for the room left: the caller reads the batch, then
 * calls again, with a larger buffer if the pending packet alone does not fit).
 */
static PyObject *read_batch(PyObject *self, PyObject *args) {
    unsigned long long context, packet, read_frame_at, unref_at;
    Py_buffer wanted, data, meta;
    long long window_us;
    int pending;
    if (!PyArg_ParseTuple(args, "KKKKy*w*w*Lp", &context, &packet, &read_frame_at, &unref_at, &wanted, &data,
                          &meta, &window_us, &pending))
        return NULL;
    read_frame_fn read_frame = (read_frame_fn)(uintptr_t)read_frame_at;
    unref_fn unref = (unref_fn)(uintptr_t)unref_at;
    char *pkt = (char *)(uintptr_t)packet;
    const uint8_t *want = (const uint8_t *)wanted.buf;
    uint8_t *out = (uint8_t *)data.buf;
    int64_t *rows = (int64_t *)meta.buf;
    Py_ssize_t max_packets = meta.len / (Py_ssize_t)(META_FIELDS * sizeof(int64_t));
    Py_ssize_t count = 0, used = 0;
    int error = 0;
    int64_t deadline = 0;

    Py_BEGIN_ALLOW_THREADS
    while (count < max_packets) {
        if (!pending) {
            error = read_frame((void *)(uintptr_t)context, pkt);
            if (error < 0)
                break;
            error = 0;
        }
        int32_t size = *(int32_t *)(pkt + SIZE_AT);
        int32_t stream = *(int32_t *)(pkt + STREAM_AT);
        if (size <= 0 || stream < 0 || stream >= wanted.len || !want[stream]) {
            unref(pkt);
            pending = 0;
            continue;
        }
        if (used + size > data.len) {
            pending = 1; /* no room: left in the packet struct for the next call */
            break;
        }
        memcpy(out + used, *(uint8_t **)(pkt + DATA_AT), (size_t)size);
        int64_t *row = rows + count * META_FIELDS;
        row[0] = stream;
        row[1] = *(int64_t *)(pkt + PTS_AT);
        row[2] = *(int64_t *)(pkt + DTS_AT);
        row[3] = *(int64_t *)(pkt + DURATION_AT);
        row[4] = *(int32_t *)(pkt + FLAGS_AT);
        row[5] = used;
        row[6] = size;
        used += size;
        count += 1;
        unref(pkt);
        pending = 0;
        int64_t now = now_us();
        if (deadline == 0)
            deadline = now + window_us;
        if (now >= deadline)
            break;
    }
    Py_END_ALLOW_THREADS

    PyBuffer_Release(&wanted);
    PyBuffer_Release(&data);
    PyBuffer_Release(&meta);
    return Py_BuildValue("nniN", count, used, error, PyBool_FromLong(pending));
}

static PyMethodDef methods[] = {
    {"read_batch", read_batch, METH_VARARGS, "Read demuxed packets with the GIL released (see the module's C file)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_batch_read", NULL, -1, methods};

PyMODINIT_FUNC PyInit__batch_read(void) { return PyModule_Create(&module); }
