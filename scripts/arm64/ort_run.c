/* Runs an ONNX model through a given libonnxruntime.so with the session settings of the instrument's binding
 * (src/XrfEdge.Inference/Native: 1 intra-op and 1 inter-op thread, all graph optimisations, deterministic
 * compute) and writes every output as raw float32. Built twice by scripts/arm64/check_arm64.py: natively for
 * linux-x64 and with aarch64-linux-gnu-gcc for linux-arm64 (run under qemu-aarch64), so the two architectures'
 * ONNX Runtime kernels are compared through one code path.
 *
 * Usage: ort_run LIB MODEL IN.f32 N BATCH OUT_PREFIX
 *   IN.f32 holds N x 300 float32 (the model input "spectrum"); the model runs in batches of BATCH rows; output k is
 *   written to OUT_PREFIX.<output name>.f32 (N x width). Prints one JSON line with the output names and widths.
 *
 * A one-shot process: what ORT allocated is freed by the process's exit, not released slot by slot.
 * Only the OrtApi slots below are used; their numbers are those of onnxruntime_c_api.h (append-only) that the C#
 * binding uses too (src/XrfEdge.Inference/Native/OnnxRuntimeApi.cs, ../shared/reference/onnxruntime-c-api.md).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void OrtStatus;
typedef struct {
    const void *const *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

enum {
    SLOT_GET_ERROR_MESSAGE = 2,
    SLOT_CREATE_ENV = 3,
    SLOT_CREATE_SESSION = 7,
    SLOT_RUN = 9,
    SLOT_CREATE_SESSION_OPTIONS = 10,
    SLOT_SET_OPT_LEVEL = 23,
    SLOT_SET_INTRA_THREADS = 24,
    SLOT_SET_INTER_THREADS = 25,
    SLOT_SESSION_GET_OUTPUT_COUNT = 31,
    SLOT_SESSION_GET_OUTPUT_TYPE_INFO = 34,
    SLOT_SESSION_GET_OUTPUT_NAME = 37,
    SLOT_CREATE_TENSOR_WITH_DATA = 49,
    SLOT_CAST_TYPE_INFO_TO_TENSOR_INFO = 55,
    SLOT_GET_DIMENSIONS_COUNT = 61,
    SLOT_GET_DIMENSIONS = 62,
    SLOT_CREATE_CPU_MEMORY_INFO = 69,
    SLOT_GET_ALLOCATOR_WITH_DEFAULT_OPTIONS = 78,
    SLOT_RELEASE_VALUE = 96,
    SLOT_RELEASE_TYPE_INFO = 98,
    SLOT_SET_DETERMINISTIC_COMPUTE = 273,
};

#define API_VERSION 17 /* SetDeterministicCompute; every slot used here exists from API 17 on */
#define WIDTH_IN 300
#define MAX_OUTPUTS 4

static const void *const *api;
#define FN(slot, type) ((type)api[slot])

static void check(OrtStatus *status, const char *what)
{
    if (status == NULL) return;
    const char *msg = FN(SLOT_GET_ERROR_MESSAGE, const char *(*)(OrtStatus *))(status);
    fprintf(stderr, "ort_run: %s failed: %s\n", what, msg);
    exit(2);
}

static void *read_file(const char *path, size_t expected)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "ort_run: cannot open %s\n", path); exit(2); }
    void *buf = malloc(expected);
    size_t got = fread(buf, 1, expected, f);
    fclose(f);
    if (got != expected) {
        fprintf(stderr, "ort_run: %s holds %zu bytes, %zu expected\n", path, got, expected);
        exit(2);
    }
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: ort_run LIB MODEL IN.f32 N BATCH OUT_PREFIX\n");
        return 2;
    }
    const char *lib = argv[1], *model = argv[2], *in_path = argv[3], *prefix = argv[6];
    long n = atol(argv[4]), batch = atol(argv[5]);
    if (n <= 0 || batch <= 0) { fprintf(stderr, "ort_run: N and BATCH must be positive\n"); return 2; }

    void *handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!handle) { fprintf(stderr, "ort_run: %s\n", dlerror()); return 2; }
    const OrtApiBase *(*get_base)(void) = (const OrtApiBase *(*)(void))dlsym(handle, "OrtGetApiBase");
    if (!get_base) { fprintf(stderr, "ort_run: %s has no OrtGetApiBase\n", lib); return 2; }
    const OrtApiBase *base = get_base();
    api = base->GetApi(API_VERSION);
    if (!api) { fprintf(stderr, "ort_run: ONNX Runtime %s refused API %d\n", base->GetVersionString(), API_VERSION); return 2; }

    void *env, *options, *session, *mem, *allocator;
    check(FN(SLOT_CREATE_ENV, OrtStatus *(*)(int, const char *, void **))(3 /* error */, "ort_run", &env), "CreateEnv");
    check(FN(SLOT_CREATE_SESSION_OPTIONS, OrtStatus *(*)(void **))(&options), "CreateSessionOptions");
    check(FN(SLOT_SET_INTRA_THREADS, OrtStatus *(*)(void *, int))(options, 1), "SetIntraOpNumThreads");
    check(FN(SLOT_SET_INTER_THREADS, OrtStatus *(*)(void *, int))(options, 1), "SetInterOpNumThreads");
    check(FN(SLOT_SET_OPT_LEVEL, OrtStatus *(*)(void *, int))(options, 99 /* all */), "SetSessionGraphOptimizationLevel");
    check(FN(SLOT_SET_DETERMINISTIC_COMPUTE, OrtStatus *(*)(void *, uint8_t))(options, 1), "SetDeterministicCompute");
    check(FN(SLOT_CREATE_SESSION, OrtStatus *(*)(void *, const char *, void *, void **))(env, model, options, &session), "CreateSession");
    check(FN(SLOT_CREATE_CPU_MEMORY_INFO, OrtStatus *(*)(int, int, void **))(0, 0, &mem), "CreateCpuMemoryInfo");
    check(FN(SLOT_GET_ALLOCATOR_WITH_DEFAULT_OPTIONS, OrtStatus *(*)(void **))(&allocator), "GetAllocatorWithDefaultOptions");

    size_t n_out;
    check(FN(SLOT_SESSION_GET_OUTPUT_COUNT, OrtStatus *(*)(void *, size_t *))(session, &n_out), "SessionGetOutputCount");
    if (n_out == 0 || n_out > MAX_OUTPUTS) { fprintf(stderr, "ort_run: %zu outputs\n", n_out); return 2; }
    char *names[MAX_OUTPUTS];
    int64_t widths[MAX_OUTPUTS];
    for (size_t k = 0; k < n_out; k++) {
        check(FN(SLOT_SESSION_GET_OUTPUT_NAME, OrtStatus *(*)(void *, size_t, void *, char **))(session, k, allocator, &names[k]), "SessionGetOutputName");
        void *type_info;
        const void *tensor_info;
        size_t rank;
        int64_t dims[8];
        check(FN(SLOT_SESSION_GET_OUTPUT_TYPE_INFO, OrtStatus *(*)(void *, size_t, void **))(session, k, &type_info), "SessionGetOutputTypeInfo");
        check(FN(SLOT_CAST_TYPE_INFO_TO_TENSOR_INFO, OrtStatus *(*)(void *, const void **))(type_info, &tensor_info), "CastTypeInfoToTensorInfo");
        check(FN(SLOT_GET_DIMENSIONS_COUNT, OrtStatus *(*)(const void *, size_t *))(tensor_info, &rank), "GetDimensionsCount");
        if (rank != 2) { fprintf(stderr, "ort_run: output %s has rank %zu, 2 expected\n", names[k], rank); return 2; }
        check(FN(SLOT_GET_DIMENSIONS, OrtStatus *(*)(const void *, int64_t *, size_t))(tensor_info, dims, rank), "GetDimensions");
        widths[k] = dims[1];
        FN(SLOT_RELEASE_TYPE_INFO, void (*)(void *))(type_info);
        if (widths[k] <= 0) { fprintf(stderr, "ort_run: output %s has no fixed width\n", names[k]); return 2; }
    }

    float *x = read_file(in_path, (size_t)n * WIDTH_IN * sizeof(float));
    float *y[MAX_OUTPUTS];
    for (size_t k = 0; k < n_out; k++) y[k] = calloc((size_t)n * (size_t)widths[k], sizeof(float));

    const char *input_names[] = {"spectrum"};
    for (long start = 0; start < n; start += batch) {
        long rows = n - start < batch ? n - start : batch;
        int64_t in_shape[2] = {rows, WIDTH_IN};
        void *input = NULL, *outputs[MAX_OUTPUTS] = {0};
        check(FN(SLOT_CREATE_TENSOR_WITH_DATA, OrtStatus *(*)(void *, void *, size_t, const int64_t *, size_t, int, void **))(
                  mem, x + start * WIDTH_IN, (size_t)rows * WIDTH_IN * sizeof(float), in_shape, 2, 1 /* float */, &input),
              "CreateTensorWithDataAsOrtValue (input)");
        for (size_t k = 0; k < n_out; k++) {
            int64_t out_shape[2] = {rows, widths[k]};
            check(FN(SLOT_CREATE_TENSOR_WITH_DATA, OrtStatus *(*)(void *, void *, size_t, const int64_t *, size_t, int, void **))(
                      mem, y[k] + start * widths[k], (size_t)(rows * widths[k]) * sizeof(float), out_shape, 2, 1, &outputs[k]),
                  "CreateTensorWithDataAsOrtValue (output)");
        }
        check(FN(SLOT_RUN, OrtStatus *(*)(void *, void *, const char *const *, const void *const *, size_t, const char *const *, size_t, void **))(
                  session, NULL, input_names, (const void *const *)&input, 1, (const char *const *)names, n_out, outputs),
              "Run");
        FN(SLOT_RELEASE_VALUE, void (*)(void *))(input);
        for (size_t k = 0; k < n_out; k++) FN(SLOT_RELEASE_VALUE, void (*)(void *))(outputs[k]);
    }

    printf("{\"runtime\": \"%s\", \"outputs\": {", base->GetVersionString());
    for (size_t k = 0; k < n_out; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%s.f32", prefix, names[k]);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(y[k], sizeof(float), (size_t)(n * widths[k]), f) != (size_t)(n * widths[k])) {
            fprintf(stderr, "ort_run: cannot write %s\n", path);
            return 2;
        }
        fclose(f);
        printf("%s\"%s\": %lld", k ? ", " : "", names[k], (long long)widths[k]);
    }
    printf("}}\n");
    return 0;
}
