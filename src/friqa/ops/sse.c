/* Checked sum of squared differences of float32 image pairs: friqa.ops.sse.
 *
 * One read of each image does both jobs of PSNR on CPU: the input check of
 * friqa.validation (every value finite and inside [lo, hi]) and the per-image
 * sum of (clamp(a) - clamp(b))^2, where clamp maps into [0, top]. torch needs a
 * pass per tensor for the check, and writes the difference and its square to
 * memory before summing them.
 *
 * Rounding: each square is rounded to float as torch does; 16 float partial sums
 * run over blocks of 1024 values and each block's total is added in double.
 *
 * The x86-64 build has AVX-512, AVX2 and baseline variants of the loop, picked at
 * load time (GCC's target_clones), so a kernel built on one machine of a cluster
 * also runs on an older one.
 */
#include <stdint.h>

#define LANES 16
#define BLOCK 1024

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define FRIQA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FRIQA_CLONES
#endif

static inline float clamp_to(float x, float top) {
    x = x > 0.0f ? x : 0.0f;
    return x < top ? x : top;
}

/* (clamp(x) - clamp(y))^2 in float; clears *ok_x / *ok_y if x / y is outside [lo, hi]. */
static inline float checked_square(float x, float y, float lo, float hi, float top, int *ok_x,
                                   int *ok_y) {
    *ok_x &= (x >= lo) & (x <= hi);
    *ok_y &= (y >= lo) & (y <= hi);
    float d = clamp_to(x, top) - clamp_to(y, top);
    return d * d;
}

/* Sum of squares of one image into *out; returns bit 0 if a has a value outside
 * [lo, hi] (NaN included), bit 1 if b has. */
FRIQA_CLONES
static int image_sse(const float *a, const float *b, int64_t count, float lo, float hi,
                     float top, double *out) {
    int ok_a[LANES], ok_b[LANES];
    for (int k = 0; k < LANES; k++) {
        ok_a[k] = 1;
        ok_b[k] = 1;
    }
    double total = 0.0;
    int64_t i = 0;
    for (; i + BLOCK <= count; i += BLOCK) {
        float acc[LANES] = {0.0f};
        for (int64_t j = i; j < i + BLOCK; j += LANES) {
            for (int k = 0; k < LANES; k++)
                acc[k] += checked_square(a[j + k], b[j + k], lo, hi, top, &ok_a[k], &ok_b[k]);
        }
        double block = 0.0;
        for (int k = 0; k < LANES; k++) block += acc[k];
        total += block;
    }
    int good_a = 1, good_b = 1;
    for (; i < count; i++)
        total += (double)checked_square(a[i], b[i], lo, hi, top, &good_a, &good_b);
    for (int k = 0; k < LANES; k++) {
        good_a &= ok_a[k];
        good_b &= ok_b[k];
    }
    *out = total;
    return (!good_a) | ((!good_b) << 1);
}

/* images pairs of per_image values each, laid out one image after the other. */
int friqa_sse_batch(const float *a, const float *b, int64_t images, int64_t per_image,
                    float lo, float hi, float top, double *out) {
    int flags = 0;
    for (int64_t n = 0; n < images; n++)
        flags |= image_sse(a + n * per_image, b + n * per_image, per_image, lo, hi, top, out + n);
    return flags;
}
