/* friqa: exact MIC, one pair at a time, in plain C (optional CPU kernel).
 *
 * The same numbers as the torch engine (friqa/mic/engine.py) and the scalar
 * reference (friqa/mic/reference.py): the "approximate" MIC of Reshef et al.,
 * Science 334 (2011), supplementary Algorithms 2-3 (EquipartitionYAxis,
 * GetClumpsPartition, GetSuperclumpsPartition, OptimizeXAxis), as the MINE
 * estimator of Albanese et al., Bioinformatics 29 (2013) computes it. Written
 * for friqa from the reference module; compiled on first use by
 * friqa/mic/native.py and called through ctypes (no Python API, no libm: the
 * logarithms come in as tables computed by the caller, so that every score is
 * formed from the same float64 numbers, in the same order, as in the engine).
 *
 * Per pair: both variables are sorted once; for every grid both are
 * equipartitioned into r rows; each direction (columns = one variable, rows =
 * the other's equipartition) forms clumps along the column variable, merges
 * them into at most k_hat superclumps and runs the column dynamic programme
 * (Reshef's Algorithm 2) over superclump boundaries for 2 .. m columns.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* scratch layout (per call, reused for every pair), all int32 unless stated:
 *   double val[2][n], double sv[2][n]   values and sorted values
 *   double dtmp[n]                       merge-sort buffer
 *   ord[2][n], itmp[n]                   sorted point order, merge-sort buffer
 *   run_end[2][n]                        end of the tie run starting at a position
 *   row_of[2][n]                         row of each point in the current grid
 *   rows_by[n]                           rows along the column-sorted order
 *   csize[n], cgroup[n]                  clump sizes and their superclump
 *   cnt[(n+1) * max_r], pre[(n+1) * max_r]   counts per clump x row, prefix counts
 *   double f[2][n+1]                     dynamic programme rows
 */
size_t friqa_mic_scratch_bytes(int n, int max_r)
{
    size_t n1 = (size_t)n + 1;
    return sizeof(double) * (5 * (size_t)n + 2 * n1) +
           sizeof(int32_t) * (10 * (size_t)n + 2 * n1 * (size_t)max_r) + 64;
}

/* sort positions 0..n-1 by value: sv gets the sorted values, ord the points */
static void sort_values(const double *v, int n, double *sv, int32_t *ord, double *dtmp,
                        int32_t *itmp)
{
    for (int i = 0; i < n; i++) {
        sv[i] = v[i];
        ord[i] = i;
    }
    int width = 16;
    /* insertion sort of blocks of 16, then bottom-up merges */
    for (int lo = 0; lo < n; lo += width) {
        int hi = lo + width < n ? lo + width : n;
        for (int i = lo + 1; i < hi; i++) {
            double key = sv[i];
            int32_t k = ord[i];
            int j = i - 1;
            while (j >= lo && sv[j] > key) {
                sv[j + 1] = sv[j];
                ord[j + 1] = ord[j];
                j--;
            }
            sv[j + 1] = key;
            ord[j + 1] = k;
        }
    }
    for (; width < n; width *= 2) {
        for (int lo = 0; lo + width < n; lo += 2 * width) {
            int mid = lo + width;
            int hi = lo + 2 * width < n ? lo + 2 * width : n;
            if (!(sv[mid - 1] > sv[mid]))
                continue; /* already in order */
            int len = mid - lo;
            memcpy(dtmp, sv + lo, sizeof(double) * len);
            memcpy(itmp, ord + lo, sizeof(int32_t) * len);
            int a = 0, b = mid, out = lo;
            while (a < len && b < hi) {
                if (sv[b] < dtmp[a]) {
                    sv[out] = sv[b];
                    ord[out++] = ord[b++];
                } else {
                    sv[out] = dtmp[a];
                    ord[out++] = itmp[a++];
                }
            }
            while (a < len) {
                sv[out] = dtmp[a];
                ord[out++] = itmp[a++];
            }
        }
    }
}

/* float32 values: sort packed 64-bit keys (the float's order as an unsigned integer
 * above the point's index), then ord and run_end as sort_values + tie_runs give */
static int sort_floats(const float *v, int n, uint64_t *key, uint64_t *ktmp, int32_t *ord,
                       int32_t *run_end, int32_t *slot)
{
    uint32_t exponents = 0; /* all ones in some value: NaN or inf */
    if (n <= 96) {
        /* few points: ranks by counting (branch-free, vectorised), no sort */
        int32_t *k32 = (int32_t *)ktmp;
        for (int i = 0; i < n; i++) {
            float f = v[i] + 0.0f;
            uint32_t b;
            memcpy(&b, &f, sizeof b);
            exponents |= (b & 0x7f800000u) == 0x7f800000u;
            b = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
            k32[i] = (int32_t)(b ^ 0x80000000u); /* the same order, signed */
        }
        /* rank = values below; tied points take the run's slots in index order */
        int32_t *fill = (int32_t *)ktmp + n; /* ktmp holds 2n int32 */
        for (int i = 0; i < n; i++) {
            int32_t ki = k32[i];
            int lt = 0, eq = 0;
            for (int j = 0; j < n; j++) {
                lt += k32[j] < ki;
                eq += k32[j] == ki;
            }
            fill[i] = lt;
            run_end[lt] = lt + eq;
        }
        for (int i = 0; i < n; i++)
            slot[fill[i]] = 0;
        for (int i = 0; i < n; i++) {
            int lt = fill[i];
            ord[lt + slot[lt]++] = i;
        }
        return exponents != 0;
    }
    for (int i = 0; i < n; i++) {
        float f = v[i] + 0.0f; /* -0.0 becomes +0.0: equal values, equal keys */
        uint32_t b;
        memcpy(&b, &f, sizeof b);
        exponents |= (b & 0x7f800000u) == 0x7f800000u;
        b = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
        key[i] = ((uint64_t)b << 32) | (uint32_t)i;
    }
    int width = 16;
    for (int lo = 0; lo < n; lo += width) {
        int hi = lo + width < n ? lo + width : n;
        for (int i = lo + 1; i < hi; i++) {
            uint64_t k = key[i];
            int j = i - 1;
            while (j >= lo && key[j] > k) {
                key[j + 1] = key[j];
                j--;
            }
            key[j + 1] = k;
        }
    }
    for (; width < n; width *= 2) {
        for (int lo = 0; lo + width < n; lo += 2 * width) {
            int mid = lo + width;
            int hi = lo + 2 * width < n ? lo + 2 * width : n;
            if (key[mid - 1] < key[mid])
                continue;
            int len = mid - lo;
            memcpy(ktmp, key + lo, sizeof(uint64_t) * len);
            int a = 0, b = mid, out = lo;
            while (a < len && b < hi)
                key[out++] = key[b] < ktmp[a] ? key[b++] : ktmp[a++];
            while (a < len)
                key[out++] = ktmp[a++];
        }
    }
    int i = 0;
    while (i < n) {
        uint32_t top = (uint32_t)(key[i] >> 32);
        ord[i] = (int32_t)(uint32_t)key[i];
        int e = i + 1;
        while (e < n && (uint32_t)(key[e] >> 32) == top) {
            ord[e] = (int32_t)(uint32_t)key[e];
            e++;
        }
        run_end[i] = e;
        i = e;
    }
    return exponents != 0;
}

/* run_end[i] for every run start i (and only there): one past the run's last position */
static void tie_runs(const double *sv, int n, int32_t *run_end)
{
    int i = 0;
    while (i < n) {
        int e = i + 1;
        while (e < n && sv[e] == sv[i])
            e++;
        run_end[i] = e;
        i = e;
    }
}

/* one step of the estimator's equipartition walk: a run of s points at position pos
 * joins the current group (filled points so far) or, when that brings the group no
 * closer to its target size, starts the next one; returns the run's group */
static inline int walk_step(int s, int pos, int n, int k, int *cur, int *filled,
                            double *target)
{
    if (*filled != 0) {
        double grown = (double)(*filled + s) - *target, now = (double)*filled - *target;
        if ((grown < 0 ? -grown : grown) >= (now < 0 ? -now : now)) {
            ++*cur;
            *filled = 0;
            *target = (double)(n - pos) / (double)(k - *cur);
        }
    }
    *filled += s;
    return *cur;
}

/* EquipartitionYAxis of the sorted runs into k rows, as the estimator walks it:
 * the row of every point goes to row_of[ord[j]]; returns the rows made */
static int equipartition_rows(const int32_t *run_end, const int32_t *ord, int n, int k,
                              int32_t *row_of)
{
    int cur = 0, filled = 0, i = 0;
    double target = (double)n / (double)k;
    while (i < n) {
        int e = run_end[i];
        int row = walk_step(e - i, i, n, k, &cur, &filled, &target);
        for (int j = i; j < e; j++)
            row_of[ord[j]] = row;
        i = e;
    }
    return cur + 1;
}

static inline __attribute__((always_inline)) double segment(const int32_t *pre, int q, int s, int t, const double *xlogx)
{
    const int32_t *a = pre + (size_t)s * q, *b = pre + (size_t)t * q;
    double acc = 0.0;
    int total = 0;
    for (int r = 0; r < q; r++) {
        int c = b[r] - a[r];
        acc += xlogx[c];
        total += c;
    }
    return acc - xlogx[total];
}

/* Reshef's OptimizeXAxis over the superclump boundaries of prefix counts pre
 * ((big + 1) x q): F_1[t] = seg(0, t); F_l[t] = max_s F_{l-1}[s] + seg(s, t); the
 * score with at most l columns is F_l[P] = max_t F_{l-1}[t] + seg(t, P), normalised */
static inline __attribute__((always_inline)) double
optimize_columns(const int32_t *pre, int q, int big, int m, int n, const double *xlogx,
                 const double *log_q, const double *log_l, double *f0, double *f1)
{
    double total = segment(pre, q, 0, big, xlogx);
    double best = 0.0;
    for (int t = 0; t <= big; t++)
        f0[t] = segment(pre, q, 0, t, xlogx);
    for (int l = 2; l <= m; l++) {
        double top = f0[0] + total;
        for (int t = 1; t <= big; t++) {
            double v = f0[t] + segment(pre, q, t, big, xlogx);
            if (v > top)
                top = v;
        }
        double lg = log_q[q] < log_l[l] ? log_q[q] : log_l[l];
        double score = (top - total) / ((double)n * lg);
        if (score > best)
            best = score;
        if (l == m)
            break;
        for (int t = 0; t <= big; t++) {
            double v = f0[t];
            for (int s = 0; s < t; s++) {
                double w = segment(pre, q, s, t, xlogx) + f0[s];
                if (w > v)
                    v = w;
            }
            f1[t] = v;
        }
        double *swap = f0;
        f0 = f1;
        f1 = swap;
    }
    return best;
}

/* best normalised score of one direction and grid: columns from the column-sorted
 * variable (runs run_u, order ord_u), rows row_w (q of them) */
static double direction_score(int n, const int32_t *run_u,
                              const int32_t *ord_u, const int32_t *row_w, int q, int m,
                              int k_hat, const double *xlogx, const double *log_q,
                              const double *log_l, int32_t *rows_by, int32_t *csize,
                              int32_t *cgroup, int32_t *cnt, int32_t *pre, double *f0,
                              double *f1)
{
    if (q < 2)
        return 0.0;
    for (int j = 0; j < n; j++)
        rows_by[j] = row_w[ord_u[j]];
    /* GetClumpsPartition: a tie run of the column variable spanning several rows
     * is a clump of its own; otherwise a clump is a maximal stretch of one row */
    int p = 0;
    int label = -1; /* >= 0: a row; -2: a mixed tie run (never equal to the next) */
    int i = 0;
    int32_t *clump = cnt; /* the clump of every column-sorted position */
    while (i < n) {
        int e = run_u[i], row = rows_by[i];
        int mixed = 0;
        for (int j = i + 1; j < e; j++)
            mixed |= rows_by[j] != row;
        if (mixed || row != label)
            csize[p++] = 0;
        csize[p - 1] += e - i;
        for (int j = i; j < e; j++)
            clump[j] = p - 1;
        label = mixed ? -2 : row;
        i = e;
    }
    /* GetSuperclumpsPartition: equipartition the clumps (as runs) into k_hat groups */
    int big_p = p;
    if (p > k_hat) {
        int cur = 0, filled = 0, pos = 0;
        double target = (double)n / (double)k_hat;
        for (int c = 0; c < p; c++) {
            cgroup[c] = walk_step(csize[c], pos, n, k_hat, &cur, &filled, &target);
            pos += csize[c];
        }
        big_p = cur + 1;
    }
    if (big_p < 2)
        return 0.0;
    /* prefix counts per row over the superclumps */
    memset(pre, 0, sizeof(int32_t) * (size_t)(big_p + 1) * q);
    if (big_p == p) {
        for (int j = 0; j < n; j++)
            pre[(size_t)(clump[j] + 1) * q + rows_by[j]]++;
    } else {
        for (int j = 0; j < n; j++)
            pre[(size_t)(cgroup[clump[j]] + 1) * q + rows_by[j]]++;
    }
    for (int t = 1; t <= big_p; t++)
        for (int r = 0; r < q; r++)
            pre[(size_t)t * q + r] += pre[(size_t)(t - 1) * q + r];
    /* OptimizeXAxis, with the row count a constant where it is small */
    switch (q) {
    case 2:
        return optimize_columns(pre, 2, big_p, m, n, xlogx, log_q, log_l, f0, f1);
    case 3:
        return optimize_columns(pre, 3, big_p, m, n, xlogx, log_q, log_l, f0, f1);
    default:
        return optimize_columns(pre, q, big_p, m, n, xlogx, log_q, log_l, f0, f1);
    }
}

/* MIC of npairs pairs (rows of x and y, n points each, float32 or float64); returns
 * 1 if x holds a NaN or an infinity, 2 if y does, 3 if both (their pairs score
 * arbitrary values in [0, 1]), else 0 */
int friqa_mic_batch(const void *x, const void *y, int is_double, int64_t npairs, int n,
                     int ngrids, const int32_t *grid_r, const int32_t *grid_m,
                     const int32_t *grid_k, const double *xlogx, const double *log_q,
                     const double *log_l, double *out, void *scratch)
{
    int max_r = 2;
    for (int g = 0; g < ngrids; g++)
        if (grid_r[g] > max_r)
            max_r = grid_r[g];
    size_t n1 = (size_t)n + 1;
    double *val = (double *)scratch;
    double *sv = val + 2 * (size_t)n;
    double *dtmp = sv + 2 * (size_t)n;
    double *f0 = dtmp + n;
    double *f1 = f0 + n1;
    int32_t *ord = (int32_t *)(f1 + n1);
    int32_t *itmp = ord + 2 * (size_t)n;
    int32_t *run_end = itmp + n;
    int32_t *row_of = run_end + 2 * (size_t)n;
    int32_t *rows_by = row_of + 2 * (size_t)n;
    int32_t *csize = rows_by + n;
    int32_t *cgroup = csize + n;
    int32_t *cnt = cgroup + n;
    int32_t *pre = cnt + n1 * (size_t)max_r;
    int bad = 0;
    for (int64_t k = 0; k < npairs; k++) {
        for (int v = 0; v < 2; v++) {
            const void *src = v == 0 ? x : y;
            if (is_double) {
                const double *row = (const double *)src + k * n;
                for (int i = 0; i < n; i++)
                    if (!(row[i] - row[i] == 0.0)) /* NaN or inf */
                        bad |= 1 << v;
                sort_values(row, n, sv + (size_t)v * n, ord + (size_t)v * n, dtmp, itmp);
                tie_runs(sv + (size_t)v * n, n, run_end + (size_t)v * n);
            } else {
                /* val, sv and dtmp (5n doubles) hold the keys (2n) and their buffer */
                if (sort_floats((const float *)src + k * n, n, (uint64_t *)val, (uint64_t *)dtmp,
                                ord + (size_t)v * n, run_end + (size_t)v * n, itmp))
                    bad |= 1 << v;
            }
        }
        double best = 0.0;
        for (int g = 0; g < ngrids; g++) {
            int r = grid_r[g];
            int q[2];
            for (int v = 0; v < 2; v++)
                q[v] = equipartition_rows(run_end + (size_t)v * n, ord + (size_t)v * n, n, r,
                                          row_of + (size_t)v * n);
            for (int u = 0; u < 2; u++) {
                int w = 1 - u;
                double s = direction_score(
                    n, run_end + (size_t)u * n, ord + (size_t)u * n,
                    row_of + (size_t)w * n, q[w], grid_m[g], grid_k[g], xlogx, log_q, log_l,
                    rows_by, csize, cgroup, cnt, pre, f0, f1);
                if (s > best)
                    best = s;
            }
        }
        out[k] = best > 1.0 ? 1.0 : best;
    }
    return bad;
}
