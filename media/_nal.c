/* H.264/HEVC NAL units from start-code form (Annex B) to length-prefixed form, as the mp4 muxer of FFmpeg writes them.
 *
 * An RTSP camera's packets come with start codes; an MP4 sample carries each NAL unit behind its 4-byte length
 * (media/fragmenter.py). Finding the start codes means reading every byte of the video, which Python's bytes.find
 * does several times slower than memchr, and splitting and joining in Python copies every byte twice more. Here it
 * is one scan (memchr for the 0x01 of each start code) and one copy. media/fragmenter.py's annex_b_to_mp4 is the
 * reference, used where this module is not built; a test holds the two to the same output.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The offset of the next start code 00 00 01 at or after ``from``, or -1. */
static Py_ssize_t next_start_code(const uint8_t *data, Py_ssize_t from, Py_ssize_t length) {
    Py_ssize_t at = from + 2;
    while (at < length) {
        const uint8_t *one = memchr(data + at, 1, (size_t)(length - at));
        if (one == NULL)
            return -1;
        at = one - data;
        if (data[at - 1] == 0 && data[at - 2] == 0)
            return at - 2;
        at += 1;
    }
    return -1;
}

/* Calls ``unit(start, end)`` for each NAL unit; a zero before a 4-byte start code belongs to the start code. */
#define FOR_EACH_UNIT(data, length, first, unit)                                        \
    do {                                                                                \
        Py_ssize_t start_ = (first) + 3;                                                \
        for (;;) {                                                                      \
            Py_ssize_t following_ = next_start_code((data), start_, (length));          \
            Py_ssize_t end_ = following_ < 0 ? (length) : following_;                   \
            if (following_ >= 0 && end_ > start_ && (data)[end_ - 1] == 0)              \
                end_ -= 1;                                                              \
            unit(start_, end_);                                                         \
            if (following_ < 0)                                                         \
                break;                                                                  \
            start_ = following_ + 3;                                                    \
        }                                                                               \
    } while (0)

static PyObject *annex_b_to_mp4(PyObject *self, PyObject *arg) {
    Py_buffer in;
    if (PyObject_GetBuffer(arg, &in, PyBUF_SIMPLE) < 0)
        return NULL;
    const uint8_t *data = (const uint8_t *)in.buf;
    Py_ssize_t length = in.len;
    Py_ssize_t first = next_start_code(data, 0, length);
    if (first < 0) { /* no start code: the data as it is */
        PyBuffer_Release(&in);
        return PyBytes_FromObject(arg);
    }
    Py_ssize_t size = 0;
#define COUNT(start, end) size += 4 + ((end) - (start))
    FOR_EACH_UNIT(data, length, first, COUNT);
#undef COUNT
    PyObject *out = PyBytes_FromStringAndSize(NULL, size);
    if (out == NULL) {
        PyBuffer_Release(&in);
        return NULL;
    }
    uint8_t *to = (uint8_t *)PyBytes_AS_STRING(out);
#define COPY(start, end)                                                                 \
    do {                                                                                \
        uint32_t n_ = (uint32_t)((end) - (start));                                      \
        to[0] = (uint8_t)(n_ >> 24), to[1] = (uint8_t)(n_ >> 16), to[2] = (uint8_t)(n_ >> 8), to[3] = (uint8_t)n_; \
        memcpy(to + 4, data + (start), n_);                                             \
        to += 4 + n_;                                                                   \
    } while (0)
    FOR_EACH_UNIT(data, length, first, COPY);
#undef COPY
    PyBuffer_Release(&in);
    return out;
}

static PyMethodDef methods[] = {
    {"annex_b_to_mp4", annex_b_to_mp4, METH_O, "NAL units behind start codes → each behind its 4-byte length."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_nal", NULL, -1, methods};

PyMODINIT_FUNC PyInit__nal(void) { return PyModule_Create(&module); }
