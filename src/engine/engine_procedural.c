/*
 * engine_procedural.c - the built-in renderer: draws the scene of
 * scene.c frame by frame into a BGR24 buffer (media.h says why BGR) that engine_run_frames
 * encodes. It is a procedural animation, not an AI model, and the MP4's
 * comment tag says so.
 *
 * The pixel work is written by hand in plain C on the BGR pixels because it
 * is our renderer: no library draws parallax terrain from a prompt. It is
 * organised so each pass touches each pixel a few times with integer maths:
 * per-frame tables (sky colour per row, ridge height per column and layer,
 * plate sampling offsets per row and column, grade LUTs) are filled first,
 * then row-major loops read them. Every buffer is allocated once before
 * the first frame; the frame loop allocates nothing.
 *
 * Passes per frame: background (sky, clouds, sun or moon, stars - or the
 * plate: source image or reference video, bilinear through the camera),
 * terrain layers far to near with parallax, particles (rain, snow,
 * fireflies, bokeh, pollen), grade (style LUTs, saturation, vignette,
 * grain, watercolor paper, letterbox), then the first-/last-frame
 * cross-fades. The documentary style adds a handheld sway to the camera,
 * the 3D render style a rim light and soft shade to the terrain.
 */
#include "engine/engine_int.h"
#include "engine/scene.h"
#include "media/media.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The byte loops of the grade and the cross-fades, vectorised by GCC's
 * cheap cost model (-O2 uses the very-cheap one, which leaves them
 * scalar). Integer arithmetic: the same bytes either way.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define VECTORISE __attribute__((optimize("tree-vectorize", "vect-cost-model=cheap")))
#else
#define VECTORISE
#endif

#define MAX_PARTICLES 400
#define FADE_START    0.6 /* last-frame transition: from this fraction of the clip */
#define FADE_IN_END   0.25

typedef struct particle {
    float x, y, speed, size, phase, depth;
} particle;

#define MAX_BANDS 8 /* drawing threads, the caller's included */

typedef struct renderer renderer;
typedef struct frame_args frame_args;
typedef void (*band_fn)(renderer *R, const frame_args *a, int y0, int y1);

/*
 * Row bands of one frame drawn in parallel: helper threads wait for a
 * generation number to change, draw their band with the pass's function,
 * and count down; the calling thread draws band 0 and waits for the count.
 * Every pass writes only its own rows, so any number of bands gives the
 * same picture.
 */
typedef struct band_worker {
    struct band_pool *pool;
    int k;
} band_worker;

typedef struct band_pool {
    pthread_t th[MAX_BANDS];
    band_worker w[MAX_BANDS];
    int helpers; /* threads besides the caller; 0 = no pool */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned generation;
    int pending, quit;
    band_fn fn;
    const frame_args *args;
    renderer *R;
} band_pool;

/* What the band passes of one frame need. */
struct frame_args {
    scene_camera cam;
    float time;
    int index;
    int plate;      /* drawing over a plate */
    int alpha;      /* terrain over the plate, 0..256 */
    int sky_rows;   /* rows above which the sky is drawn */
    int fade_first; /* cross-fade weights 0..256, -1 = none */
    int fade_last;
    uint8_t *out;
};

struct renderer {
    const hh_render_job *job;
    int W, H, frames;
    scene sc;
    float cfg;
    uint8_t *first, *last; /* cover-scaled images, W*H*3, or NULL */
    uint8_t *plate;        /* W*H*3 or NULL */
    media_frames *refvid;  /* moving plate */
    float plate_zb;        /* base zoom that keeps the plate's window inside it */
    int16_t *top;          /* [layer][W]: screen row of the ridge */
    int16_t *cover;        /* [W]: the highest ridge of any drawn layer */
    int32_t *wincol;       /* [layer][W]: window column index, -1 for wall */
    int32_t *winrow;       /* [layer][H]: window row index, -1 for wall */
    uint8_t *lut;          /* [layer][H][3]: colour by depth below the ridge */
    uint8_t *water;        /* [H]: brightness of water rows, 0..255 */
    int16_t *wavex;        /* [W]: ripple brightness along a row */
    int32_t *rowoff;       /* [H]: where each row reads wavex, so ripples break up */
    uint8_t *sky;          /* [H][3] */
    uint8_t *cloudx;       /* [W]: cloud density by column */
    uint8_t *cloudy;       /* [H]: cloud weight by row */
    int cloud_max;         /* tallest cloud puff of the frame */
    int32_t *xo, *yo;      /* plate sampling: byte offset of the left/top sample */
    uint16_t *xw, *yw;     /* and the weight of the right/bottom one, 0..256 */
    uint16_t *vigx, *vigy; /* vignette factors, 0..256 */
    uint16_t *vig3;        /* [W][3]: vigx, once per byte of a row */
    uint8_t grade[3][256];
    int grade_sat;  /* 256 = unchanged */
    int letterbox;  /* rows of black bar top and bottom */
    int pre_graded; /* palette colours are graded when built (no plate) */
    int vignette;   /* the grade darkens the edges */
    int grain;      /* grain amplitude, 0 = none */
    uint8_t *paper; /* watercolor: [H][W] darkening of the paper texture, or NULL */
    particle part[MAX_PARTICLES];
    float star[600][3];
    band_pool pool;
};

static inline uint8_t clamp8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static inline uint8_t to8(float v)
{
    return clamp8((int)lrintf(v * 255.0f));
}

static float hash01(uint64_t seed, int64_t i)
{
    return (float)((scene_mix(seed ^ (uint64_t)i * 0x9E3779B97F4A7C15ull) >> 40) *
                   (1.0 / 16777216.0));
}

/* Smooth 1D value noise in [0, 1]. */
static float noise1(uint64_t seed, float u)
{
    float fl = floorf(u);
    float f = u - fl;
    float a = hash01(seed, (int64_t)fl), b = hash01(seed, (int64_t)fl + 1);
    f = f * f * (3.0f - 2.0f * f);
    return a + (b - a) * f;
}

/* Relief of a layer at world position u (features), in [0, 1]. */
static float shape_at(const scene_layer *L, float u, int32_t *wincol)
{
    *wincol = -1;
    switch (L->shape) {
    case SHAPE_HILLS:
        return 0.7f * noise1(L->seed, u) + 0.3f * noise1(L->seed + 1, u * 2.3f);
    case SHAPE_MOUNTAINS: {
        float v = 0, a = 0.6f, f = 1;
        for (int o = 0; o < 3; o++, a *= 0.5f, f *= 2.1f)
            v += a * (1.0f - fabsf(2.0f * noise1(L->seed + (uint64_t)o, u * f) - 1.0f));
        return v / 1.05f;
    }
    case SHAPE_BUILDINGS: {
        float cell = floorf(u), f = u - cell;
        float hgt = 0.25f + 0.75f * hash01(L->seed, (int64_t)cell);
        if (f > 0.86f)
            return hgt * 0.15f; /* the street between two buildings */
        float wf = f * 8.0f;
        if (wf >= 0.6f && wf - floorf(wf) < 0.55f)
            *wincol = (int32_t)((int64_t)cell * 8 + (int64_t)wf) & 0x7fffffff;
        return hgt;
    }
    case SHAPE_TREES: {
        float cell = floorf(u), f = u - cell;
        float treeh = 0.45f + 0.55f * hash01(L->seed, (int64_t)cell);
        float tri = 1.0f - fabsf(2.0f * f - 1.0f) * 1.1f;
        float ground = 0.2f * noise1(L->seed + 7, u * 0.15f);
        return ground + (tri > 0 ? treeh * tri : 0.0f) * 0.8f;
    }
    case SHAPE_DUNES:
        return 0.8f * noise1(L->seed, u) + 0.2f * noise1(L->seed + 3, u * 3.1f);
    default:
        return 0.0f;
    }
}

static hh_status alloc_all(renderer *R)
{
    size_t W = (size_t)R->W, H = (size_t)R->H;
    R->top = calloc(SCENE_LAYERS * W, sizeof *R->top);
    R->cover = calloc(W, sizeof *R->cover);
    R->wincol = calloc(SCENE_LAYERS * W, sizeof *R->wincol);
    R->winrow = calloc(SCENE_LAYERS * H, sizeof *R->winrow);
    R->lut = calloc(SCENE_LAYERS * H * 3, 1);
    R->water = calloc(H, 1);
    R->wavex = calloc(W, sizeof *R->wavex);
    R->rowoff = calloc(H, sizeof *R->rowoff);
    R->sky = calloc(H * 3, 1);
    R->cloudx = calloc(W, 1);
    R->cloudy = calloc(H, 1);
    R->xo = calloc(W, sizeof *R->xo);
    R->yo = calloc(H, sizeof *R->yo);
    R->xw = calloc(W, sizeof *R->xw);
    R->yw = calloc(H, sizeof *R->yw);
    R->vigx = calloc(W, sizeof *R->vigx);
    R->vigy = calloc(H, sizeof *R->vigy);
    R->vig3 = calloc(3 * W, sizeof *R->vig3);
    if (R->sc.grade == GRADE_WATERCOLOR && !(R->paper = malloc(W * H)))
        return HH_ERR_NOMEM;
    if (!R->vig3 || !R->top || !R->cover || !R->wincol || !R->winrow || !R->lut || !R->water ||
        !R->wavex || !R->rowoff || !R->sky || !R->cloudx || !R->cloudy || !R->xo || !R->yo ||
        !R->xw || !R->yw || !R->vigx || !R->vigy)
        return HH_ERR_NOMEM;
    return HH_OK;
}

static void pool_stop(renderer *R);

static void free_all(renderer *R)
{
    pool_stop(R);
    free(R->top);
    free(R->cover);
    free(R->wincol);
    free(R->winrow);
    free(R->lut);
    free(R->water);
    free(R->wavex);
    free(R->rowoff);
    free(R->sky);
    free(R->cloudx);
    free(R->cloudy);
    free(R->xo);
    free(R->yo);
    free(R->xw);
    free(R->yw);
    free(R->vigx);
    free(R->vigy);
    free(R->vig3);
    free(R->paper);
    free(R->first);
    free(R->last);
    free(R->plate);
    media_frames_free(R->refvid);
}

/* Saturation and tone curves of the style on one colour. */
static void grade_px(const renderer *R, int *r, int *g, int *b)
{
    int luma = (54 * *r + 183 * *g + 19 * *b) >> 8, sat = R->grade_sat;
    *r = R->grade[0][clamp8(luma + (((*r - luma) * sat) >> 8))];
    *g = R->grade[1][clamp8(luma + (((*g - luma) * sat) >> 8))];
    *b = R->grade[2][clamp8(luma + (((*b - luma) * sat) >> 8))];
}

/*
 * Writes colour c as 3 bytes at dst, graded when the palette is graded at
 * build time: grading a drawn-from-tables scene per table entry instead of
 * per pixel is what keeps the renderer cheaper than the encoder.
 */
static void put_graded(const renderer *R, uint8_t *dst, scene_rgb c)
{
    int r = to8(c.r), g = to8(c.g), b = to8(c.b);
    if (R->pre_graded)
        grade_px(R, &r, &g, &b);
    dst[0] = (uint8_t)b;
    dst[1] = (uint8_t)g;
    dst[2] = (uint8_t)r;
}

/* Watercolor paper: soft blotches of pigment pooling plus fine fibres, fixed for the clip. */
static void paper_texture(renderer *R)
{
    const int cell = 48;
    uint64_t seed = R->sc.seed ^ 0x5A5A5A5Aull;
    for (int y = 0; y < R->H; y++) {
        float fy = (float)y / (float)cell, wy = fy - floorf(fy);
        int cy = (int)fy;
        wy = wy * wy * (3.0f - 2.0f * wy);
        for (int x = 0; x < R->W; x++) {
            float fx = (float)x / (float)cell, wx = fx - floorf(fx);
            int cx = (int)fx;
            wx = wx * wx * (3.0f - 2.0f * wx);
            float a = hash01(seed, (int64_t)cy * 4096 + cx),
                  b = hash01(seed, (int64_t)cy * 4096 + cx + 1),
                  c = hash01(seed, (int64_t)(cy + 1) * 4096 + cx),
                  d = hash01(seed, (int64_t)(cy + 1) * 4096 + cx + 1);
            float blotch = (a + (b - a) * wx) * (1 - wy) + (c + (d - c) * wx) * wy;
            float fibre = hash01(seed + 1, (int64_t)y * R->W + x);
            R->paper[(size_t)y * R->W + x] = (uint8_t)lrintf(30.0f * blotch + 12.0f * fibre);
        }
    }
}

/* Builds the per-clip tables: layer colours, grade, vignette, particles, stars. */
static void prepare(renderer *R)
{
    scene *s = &R->sc;
    int W = R->W, H = R->H;
    /* Grade: a tone curve per channel plus saturation, by style. */
    float sat = R->plate ? 1.0f : s->saturation;
    float vig = 0.0f;
    for (int i = 0; i < 256; i++) {
        float x = (float)i / 255.0f, r = x, g = x, b = x;
        switch (s->grade) {
        case GRADE_CINEMATIC: { /* teal shadows, warm highlights, an S-curve */
            float c = x * x * (3.0f - 2.0f * x);
            float m = 0.7f * c + 0.3f * x;
            r = m + 0.06f * (x - 0.4f);
            g = m;
            b = m - 0.06f * (x - 0.5f);
            break;
        }
        case GRADE_ANIME: /* flat shading: six tones per channel */
            r = g = b = floorf(x * 5.999f) / 5.0f;
            break;
        case GRADE_NOIR: {
            float c = x * x * (3.0f - 2.0f * x);
            r = g = b = 0.85f * c + 0.15f * c * c;
            break;
        }
        case GRADE_VINTAGE: /* faded blacks, warm cast */
            r = 0.08f + 0.9f * x;
            g = 0.06f + 0.85f * x;
            b = 0.05f + 0.7f * x;
            break;
        case GRADE_PASTEL:
            r = g = b = 0.25f + 0.7f * x;
            break;
        case GRADE_VIVID: {
            float c = x * x * (3.0f - 2.0f * x);
            r = g = b = 0.5f * c + 0.5f * x;
            break;
        }
        case GRADE_DOCUMENTARY: /* soft contrast, lifted blacks, a faint warm cast */
            r = 0.08f + 0.84f * x + 0.02f;
            g = 0.08f + 0.84f * x;
            b = 0.08f + 0.80f * x;
            break;
        case GRADE_WATERCOLOR: /* light and airy: the paper shows through every tone */
            r = g = b = 0.30f + 0.70f * powf(x, 0.75f);
            break;
        case GRADE_RENDER3D: { /* clean, punchy tones */
            float c = x * x * (3.0f - 2.0f * x);
            r = g = b = 0.35f * c + 0.65f * x;
            break;
        }
        default:
            break;
        }
        R->grade[0][i] = to8(r);
        R->grade[1][i] = to8(g);
        R->grade[2][i] = to8(b);
    }
    static const float grade_sat[GRADE_COUNT] = {
        [GRADE_NEUTRAL] = 1.0f, [GRADE_CINEMATIC] = 0.85f,  [GRADE_ANIME] = 1.35f,
        [GRADE_NOIR] = 0.0f,    [GRADE_VINTAGE] = 0.55f,    [GRADE_PASTEL] = 0.7f,
        [GRADE_VIVID] = 1.5f,   [GRADE_DOCUMENTARY] = 0.7f, [GRADE_WATERCOLOR] = 1.2f,
        [GRADE_RENDER3D] = 1.3f};
    R->grade_sat = (int)lrintf(256.0f * sat * grade_sat[s->grade]);
    if (s->grade == GRADE_CINEMATIC || s->grade == GRADE_VINTAGE || s->grade == GRADE_NOIR)
        vig = 0.5f;
    R->vignette = vig > 0;
    R->pre_graded = !R->plate;
    if (s->grade == GRADE_CINEMATIC)
        R->letterbox = W > H ? (H - (int)((float)W / 2.39f)) / 2 : H / 16;
    R->grain = s->grade == GRADE_VINTAGE ? 18 : s->grade == GRADE_NOIR ? 8 : 0;
    if (R->paper)
        paper_texture(R);
    for (int x = 0; x < W; x++) {
        float d = ((float)x + 0.5f) / (float)W * 2.0f - 1.0f;
        R->vigx[x] = (uint16_t)lrintf(256.0f * (1.0f - vig * 0.5f * d * d));
        R->vig3[3 * x] = R->vig3[3 * x + 1] = R->vig3[3 * x + 2] = R->vigx[x];
    }
    for (int y = 0; y < H; y++) {
        float d = ((float)y + 0.5f) / (float)H * 2.0f - 1.0f;
        R->vigy[y] = (uint16_t)lrintf(256.0f * (1.0f - vig * 0.5f * d * d));
    }
    for (int l = 0; l < s->nlayers; l++) {
        const scene_layer *L = &s->layer[l];
        for (int d = 0; d < H; d++) {
            float t = fminf(1.0f, (float)d / (0.45f * (float)H));
            scene_rgb c = {L->top.r + (L->bottom.r - L->top.r) * t,
                           L->top.g + (L->bottom.g - L->top.g) * t,
                           L->top.b + (L->bottom.b - L->top.b) * t};
            if (s->grade == GRADE_RENDER3D) { /* a rim of light on the ridge, soft shade below */
                float rim = (float)d < 0.012f * (float)H ? 0.2f : 0.0f, ao = 1.15f - 0.55f * t;
                c = (scene_rgb){fminf(1.0f, c.r * ao + rim), fminf(1.0f, c.g * ao + rim),
                                fminf(1.0f, c.b * ao + rim)};
            }
            put_graded(R, R->lut + ((size_t)l * H + d) * 3, c);
        }
    }
    uint64_t st = s->seed ^ 0xA5A5A5A5ull;
    for (int i = 0; i < s->particles && i < MAX_PARTICLES; i++) {
        particle *p = &R->part[i];
        p->x = hash01(st, 6 * i);
        p->y = hash01(st, 6 * i + 1);
        p->speed = 0.5f + hash01(st, 6 * i + 2);
        p->size = hash01(st, 6 * i + 3);
        p->phase = 6.2831853f * hash01(st, 6 * i + 4);
        p->depth = 0.3f + 0.9f * hash01(st, 6 * i + 5);
    }
    for (int i = 0; i < s->stars && i < 600; i++) {
        R->star[i][0] = hash01(st + 99, 3 * i) * 4.0f - 2.0f;
        R->star[i][1] = hash01(st + 99, 3 * i + 1) * 0.75f - 0.6f;
        R->star[i][2] = 6.2831853f * hash01(st + 99, 3 * i + 2);
    }
}

/* Sampling tables of the plate through the camera (separable bilinear). */
static void plate_tables(renderer *R, scene_camera cam)
{
    int W = R->W, H = R->H;
    float scale = 1.0f / (R->plate_zb * cam.zoom);
    float cx = (float)W * 0.5f + cam.x * (float)H, cy = (float)H * 0.5f + cam.y * (float)H;
    for (int x = 0; x < W; x++) {
        float sx = cx + ((float)x + 0.5f - (float)W * 0.5f) * scale - 0.5f;
        sx = fminf(fmaxf(sx, 0.0f), (float)W - 1.001f);
        int xi = (int)sx;
        if (xi > W - 2)
            xi = W - 2;
        R->xo[x] = xi * 3;
        R->xw[x] = (uint16_t)lrintf((sx - (float)xi) * 256.0f);
    }
    for (int y = 0; y < H; y++) {
        float sy = cy + ((float)y + 0.5f - (float)H * 0.5f) * scale - 0.5f;
        sy = fminf(fmaxf(sy, 0.0f), (float)H - 1.001f);
        int yi = (int)sy;
        if (yi > H - 2)
            yi = H - 2;
        R->yo[y] = yi;
        R->yw[y] = (uint16_t)lrintf((sy - (float)yi) * 256.0f);
    }
}

/* Rows [y0, y1) of the plate through the camera, with a tint towards the palette. */
static void plate_rows(renderer *R, int y0, int y1, uint8_t *out)
{
    int W = R->W;
    int tint_a = (int)lrintf(R->cfg * 0.2f * 256.0f);
    int tr = to8(R->sc.sky_horizon.r), tg = to8(R->sc.sky_horizon.g), tb = to8(R->sc.sky_horizon.b);
    size_t stride = (size_t)W * 3;
    for (int y = y0; y < y1; y++) {
        const uint8_t *r0 = R->plate + (size_t)R->yo[y] * stride, *r1 = r0 + stride;
        int wy = R->yw[y], iy = 256 - wy;
        uint8_t *o = out + (size_t)y * stride;
        for (int x = 0; x < W; x++, o += 3) {
            const uint8_t *a = r0 + R->xo[x], *c = r1 + R->xo[x];
            int wx = R->xw[x], ix = 256 - wx;
            for (int ch = 0; ch < 3; ch++) {
                int top = a[ch] * ix + a[ch + 3] * wx;
                int bot = c[ch] * ix + c[ch + 3] * wx;
                o[ch] = (uint8_t)((top * iy + bot * wy + 32768) >> 16);
            }
            if (tint_a) {
                o[0] = (uint8_t)((o[0] * (256 - tint_a) + tb * tint_a) >> 8);
                o[1] = (uint8_t)((o[1] * (256 - tint_a) + tg * tint_a) >> 8);
                o[2] = (uint8_t)((o[2] * (256 - tint_a) + tr * tint_a) >> 8);
            }
        }
    }
}

/* Fills n pixels with one colour: one pixel, then copies of what is filled, doubling. */
static void fill_rgb(uint8_t *o, int n, const uint8_t *c)
{
    size_t have = 3, want = (size_t)n * 3;
    if (n <= 0)
        return;
    memcpy(o, c, 3);
    while (have < want) {
        size_t k = have < want - have ? have : want - have;
        memcpy(o + have, o, k);
        have += k;
    }
}

/* Sky tables of one frame: colour and cloud distance per row, cloud puffs per column. */
static void sky_tables(renderer *R, scene_camera cam, float time)
{
    const scene *s = &R->sc;
    int W = R->W, H = R->H;
    const float p = 0.08f, zp = scene_depth_zoom(cam.zoom, p);
    for (int y = 0; y < H; y++) {
        float wy = ((float)y - (float)H * 0.5f) / ((float)H * zp) + cam.y * p; /* -0.5 .. */
        float t = fminf(1.0f, fmaxf(0.0f, (wy + 0.5f) / 0.62f));
        t = t * t;
        scene_rgb c = {s->sky_top.r + (s->sky_horizon.r - s->sky_top.r) * t,
                       s->sky_top.g + (s->sky_horizon.g - s->sky_top.g) * t,
                       s->sky_top.b + (s->sky_horizon.b - s->sky_top.b) * t};
        put_graded(R, R->sky + y * 3, c);
        /* Clouds sit on a band of the sky: a row's distance from its base line. */
        float base = -0.22f, d = wy > base ? (wy - base) / 0.02f : (base - wy) / 0.14f;
        d = d * (1.2f - 0.5f * s->clouds);
        R->cloudy[y] = (uint8_t)lrintf(fminf(d, 1.0f) * 255.0f);
    }
    const float pc = 0.15f, zc = scene_depth_zoom(cam.zoom, pc);
    for (int x = 0; x < W; x++) {
        float wx = ((float)x - (float)W * 0.5f) / ((float)H * zc) + cam.x * pc + time * 0.01f;
        float n =
            noise1(s->seed + 11, wx * 4.0f) * 0.65f + noise1(s->seed + 12, wx * 11.0f) * 0.35f;
        n = (n - 0.45f) * 2.2f;
        R->cloudx[x] = (uint8_t)(n > 0 ? lrintf(fminf(n, 1.0f) * 255.0f) : 0);
    }
    R->cloud_max = 0;
    for (int x = 0; x < W; x++)
        R->cloud_max = R->cloudx[x] > R->cloud_max ? R->cloudx[x] : R->cloud_max;
}

/*
 * Sky gradient and clouds, then the stars and the sun or moon, in rows
 * [y0, y1) that are above `rows` (the rows below are all terrain).
 */
static void sky_rows(renderer *R, scene_camera cam, float time, int rows, int y0, int y1,
                     uint8_t *out)
{
    const scene *s = &R->sc;
    int W = R->W, H = R->H, cloud_max = R->cloud_max;
    y1 = y1 < rows ? y1 : rows;
    uint8_t cloudc[3];
    put_graded(R, cloudc, s->cloud);
    int cr = cloudc[0], cg = cloudc[1], cb = cloudc[2];
    int cover = (int)lrintf(s->clouds * 220.0f);
    for (int y = y0; y < y1; y++) {
        uint8_t *o = out + (size_t)y * W * 3;
        const uint8_t *c = R->sky + y * 3;
        int cy = R->cloudy[y];
        if (cy >= cloud_max || !cover) { /* no cloud reaches this row */
            fill_rgb(o, W, c);
            continue;
        }
        for (int x = 0; x < W; x++, o += 3) {
            /* A cloud covers the row where its column's puff is taller than the distance. */
            int a = (R->cloudx[x] - cy) * 4;
            a = a <= 0 ? 0 : a > 255 ? cover : (a * cover) >> 8;
            o[0] = (uint8_t)((c[0] * (256 - a) + cr * a) >> 8);
            o[1] = (uint8_t)((c[1] * (256 - a) + cg * a) >> 8);
            o[2] = (uint8_t)((c[2] * (256 - a) + cb * a) >> 8);
        }
    }
    /* Stars twinkle; they sit at infinity, so they barely move with the camera. */
    for (int i = 0; i < s->stars && i < 600; i++) {
        int sx = (int)lrintf((float)W * 0.5f + (R->star[i][0] - cam.x * 0.03f) * (float)H);
        int sy = (int)lrintf((float)H * 0.5f + (R->star[i][1] - cam.y * 0.03f) * (float)H);
        if (sx < 0 || sy < y0 || sx >= W || sy >= y1)
            continue;
        int v = 150 + (int)(105.0f * sinf(R->star[i][2] + time * 3.0f));
        uint8_t *o = out + ((size_t)sy * W + sx) * 3;
        o[0] = o[1] = o[2] = clamp8(v);
    }
    if (!s->has_sun)
        return;
    const float ps = 0.1f, zs = scene_depth_zoom(cam.zoom, ps);
    float sx = (float)W * 0.5f + (s->sun_x - cam.x * ps) * (float)H * zs;
    float sy = (float)H * 0.5f + (s->sun_y - 0.5f - cam.y * ps) * (float)H * zs;
    float r = s->sun_r * (float)H * zs, glow = r * 4.0f;
    int x0 = (int)fmaxf(0, sx - glow), x1 = (int)fminf((float)W, sx + glow);
    int sy0 = (int)fmaxf((float)y0, sy - glow), sy1 = (int)fminf((float)y1, sy + glow);
    uint8_t sunc[3];
    put_graded(R, sunc, s->sun);
    int sr = sunc[0], sg = sunc[1], sb = sunc[2];
    for (int y = sy0; y < sy1; y++) {
        uint8_t *o = out + ((size_t)y * W + x0) * 3;
        float dy = (float)y - sy;
        for (int x = x0; x < x1; x++, o += 3) {
            float dx = (float)x - sx, d = sqrtf(dx * dx + dy * dy);
            float a;
            if (d <= r)
                a = 1.0f;
            else if (d < glow) {
                a = 1.0f - (d - r) / (glow - r);
                a = a * a * 0.55f;
            } else
                continue;
            int ai = (int)(a * 256.0f);
            o[0] = (uint8_t)((o[0] * (256 - ai) + sr * ai) >> 8);
            o[1] = (uint8_t)((o[1] * (256 - ai) + sg * ai) >> 8);
            o[2] = (uint8_t)((o[2] * (256 - ai) + sb * ai) >> 8);
        }
    }
}

/*
 * Terrain tables of one frame: per column the ridge of each layer (from
 * first_layer on), window rows, water rows. Returns the first row that
 * terrain covers in every column: the sky need not be drawn below it.
 */
static int layer_tables(renderer *R, scene_camera cam, float time, int first_layer)
{
    const scene *s = &R->sc;
    int W = R->W, H = R->H, n = s->nlayers;
    for (int l = first_layer; l < n; l++) {
        const scene_layer *L = &s->layer[l];
        float zp = scene_depth_zoom(cam.zoom, L->parallax);
        float ridge_shift = cam.y * L->parallax;
        for (int x = 0; x < W; x++) {
            float wx = ((float)x - (float)W * 0.5f) / ((float)H * zp) + cam.x * L->parallax;
            float v = shape_at(L, wx * L->freq + 1000.0f, &R->wincol[l * W + x]);
            float wy = L->base - 0.5f - L->amp * v - ridge_shift;
            float sy = (float)H * 0.5f + wy * (float)H * zp;
            R->top[l * W + x] = (int16_t)fminf(fmaxf(sy, -1.0f), (float)H + 1.0f);
        }
        if (L->windows) {
            for (int y = 0; y < H; y++) {
                float wy = ((float)y - (float)H * 0.5f) / ((float)H * zp) + ridge_shift;
                float f = (wy + 10.0f) * L->freq * 5.0f;
                R->winrow[l * H + y] = f - floorf(f) < 0.5f ? (int32_t)f : -1;
            }
        }
    }
    for (int y = 0; y < H; y++) {
        float wave = sinf(((float)y / (float)H) * 90.0f - time * 2.0f) *
                     sinf(((float)y / (float)H) * 23.0f + time * 0.7f);
        R->water[y] = (uint8_t)(200 + (int)(30.0f * wave));
        /* Rows read the ripple table at scattered offsets, in bands of a few rows. */
        R->rowoff[y] = (int32_t)((((uint32_t)y / 3u) * 2654435761u >> 8) % (uint32_t)W);
    }
    const scene_layer *near = &s->layer[n - 1];
    float zn = scene_depth_zoom(cam.zoom, near->parallax);
    for (int x = 0; x < W; x++) {
        float wx = ((float)x - (float)W * 0.5f) / ((float)H * zn) + cam.x * near->parallax;
        float v = sinf(wx * 60.0f + time * 1.7f) * (0.6f + 0.4f * sinf(wx * 7.0f - time * 0.5f));
        R->wavex[x] = (int16_t)lrintf(45.0f * v);
    }
    int covered = 0;
    for (int x = 0; x < W; x++) {
        int c = H;
        for (int l = first_layer; l < n; l++)
            c = R->top[l * W + x] < c ? R->top[l * W + x] : c;
        R->cover[x] = (int16_t)c;
        covered = c > covered ? c : covered;
    }
    return covered < 0 ? 0 : covered > H ? H : covered;
}

/* What draw_layers reads of a layer, hoisted out of the pixel loop. */
typedef struct layer_px {
    const int16_t *top;    /* [W] */
    const int32_t *wincol; /* [W] */
    const int32_t *winrow; /* [H] */
    const uint8_t *lut;    /* [H][3] */
    uint32_t seed;
    int water, windows;
} layer_px;

/* A lit window's colour or the wall darkened, for window cell (wc, wrow) of a layer. */
static inline int window_lit(uint32_t seed, int32_t wc, int32_t wrow, int lit_pct)
{
    /* A cheap integer hash per window: lit or dark. */
    uint32_t hsh = ((uint32_t)wc * 0x9E3779B1u) ^ ((uint32_t)wrow * 0x85EBCA77u) ^ seed;
    hsh ^= hsh >> 15;
    hsh *= 0x2C1B3C6Du;
    hsh ^= hsh >> 12;
    return (int)(hsh % 100) < lit_pct;
}

/*
 * Terrain layers with parallax: per row the nearest layer whose ridge is
 * above the pixel. alpha (0..256) blends the terrain over what is there
 * (the plate); first_layer skips far layers. Needs layer_tables first.
 * Everything the pixel loop reads is in locals (the byte stores to out
 * could alias any table read through R).
 */
static void draw_layers(renderer *R, int alpha, int first_layer, int y0, int y1,
                        uint8_t *restrict out)
{
    const scene *s = &R->sc;
    int W = R->W, H = R->H, n = s->nlayers;
    uint8_t windowc[3];
    put_graded(R, windowc, s->window);
    const int wr = windowc[0], wg = windowc[1], wb = windowc[2];
    const int lit_pct = s->tod == TOD_NIGHT ? 45 : 20;
    layer_px lp[SCENE_LAYERS];
    for (int l = 0; l < n; l++)
        lp[l] = (layer_px){R->top + (size_t)l * W,     R->wincol + (size_t)l * W,
                           R->winrow + (size_t)l * H,  R->lut + (size_t)l * H * 3,
                           (uint32_t)s->layer[l].seed, s->layer[l].shape == SHAPE_WATER,
                           s->layer[l].windows};
    const int16_t *restrict cover = R->cover;
    const int16_t *restrict wavex = R->wavex;
    (void)first_layer; /* its layers' ridges are what cover and top hold */
    for (int y = y0; y < y1; y++) {
        uint8_t *restrict o = out + (size_t)y * W * 3;
        const int rowoff = R->rowoff[y], water = R->water[y];
        for (int x = 0; x < W; x++, o += 3) {
            if (y < cover[x]) /* above every ridge: the sky or plate stays */
                continue;
            int l = n - 1;
            while (y < lp[l].top[x])
                l--;
            const layer_px *L = &lp[l];
            int d = y - L->top[x];
            if (d >= H)
                d = H - 1;
            const uint8_t *c = L->lut + (size_t)d * 3;
            int r = c[0], g = c[1], b = c[2];
            if (L->water) {
                int xi = x + rowoff;
                if (xi >= W)
                    xi -= W;
                int m = water + wavex[xi];
                m = m < 0 ? 0 : m > 255 ? 255 : m;
                r = r * m >> 8;
                g = g * m >> 8;
                b = b * m >> 8;
                if (m > 248) { /* glints on the crests */
                    r = (r + 255) >> 1;
                    g = (g + 255) >> 1;
                    b = (b + 255) >> 1;
                }
            } else if (L->windows && d > 3) {
                int32_t wc = L->wincol[x], wrow = L->winrow[y];
                if (wc >= 0 && wrow >= 0) {
                    if (window_lit(L->seed, wc, wrow, lit_pct)) {
                        r = wr;
                        g = wg;
                        b = wb;
                    } else {
                        r = r * 3 >> 2;
                        g = g * 3 >> 2;
                        b = b * 3 >> 2;
                    }
                }
            }
            if (alpha >= 256) {
                o[0] = (uint8_t)r;
                o[1] = (uint8_t)g;
                o[2] = (uint8_t)b;
            } else {
                o[0] = (uint8_t)((o[0] * (256 - alpha) + r * alpha) >> 8);
                o[1] = (uint8_t)((o[1] * (256 - alpha) + g * alpha) >> 8);
                o[2] = (uint8_t)((o[2] * (256 - alpha) + b * alpha) >> 8);
            }
        }
    }
}

/* Adds a soft disc of colour (r, g, b) and strength a (0..1) at (cx, cy). */
static void splat(renderer *R, uint8_t *out, float cx, float cy, float rad, int r, int g, int b,
                  float a)
{
    int W = R->W, H = R->H;
    int x0 = (int)fmaxf(0, cx - rad), x1 = (int)fminf((float)W - 1, cx + rad);
    int y0 = (int)fmaxf(0, cy - rad), y1 = (int)fminf((float)H - 1, cy + rad);
    float inv = 1.0f / (rad * rad);
    for (int y = y0; y <= y1; y++) {
        uint8_t *o = out + ((size_t)y * W + x0) * 3;
        for (int x = x0; x <= x1; x++, o += 3) {
            float dx = (float)x - cx, dy = (float)y - cy;
            float f = 1.0f - (dx * dx + dy * dy) * inv;
            if (f <= 0)
                continue;
            int ai = (int)(f * a * 256.0f);
            o[0] = (uint8_t)((o[0] * (256 - ai) + r * ai) >> 8);
            o[1] = (uint8_t)((o[1] * (256 - ai) + g * ai) >> 8);
            o[2] = (uint8_t)((o[2] * (256 - ai) + b * ai) >> 8);
        }
    }
}

static void draw_particles(renderer *R, scene_camera cam, float time, float strength, uint8_t *out)
{
    const scene *s = &R->sc;
    int W = R->W, H = R->H;
    float span = (float)W / (float)H + 0.4f; /* wrap width, in frame heights */
    uint8_t particlec[3];
    put_graded(R, particlec, s->particle);
    int pr = particlec[0], pg = particlec[1], pb = particlec[2];
    float unit = (float)H / 720.0f;
    for (int i = 0; i < s->particles && i < MAX_PARTICLES; i++) {
        const particle *p = &R->part[i];
        float zp = scene_depth_zoom(cam.zoom, p->depth);
        float wx = p->x * span - cam.x * p->depth, wy;
        switch (s->weather) {
        case WX_RAIN:
            wy = p->y + time * 1.6f * p->speed;
            wx -= time * 0.15f;
            break;
        case WX_SNOW:
            wy = p->y + time * 0.12f * p->speed;
            wx += 0.03f * sinf(time * 1.3f + p->phase);
            break;
        case WX_FIREFLIES:
            wy = 0.55f + 0.4f * p->y + 0.05f * cosf(time * 0.9f + p->phase);
            wx += 0.06f * sinf(time * 0.7f * p->speed + p->phase);
            break;
        default:
            wy = p->y - time * 0.02f * p->speed;
            wx += time * 0.03f * p->speed;
            break;
        }
        wx = wx - span * floorf(wx / span) - span * 0.5f;
        wy = wy - floorf(wy) - 0.5f - cam.y * p->depth;
        float sx = (float)W * 0.5f + wx * (float)H * zp;
        float sy = (float)H * 0.5f + wy * (float)H * zp;
        switch (s->weather) {
        case WX_RAIN: {
            float len = (14.0f + 18.0f * p->size) * unit * p->depth;
            for (int k = 0; k < (int)len; k++) {
                int x = (int)(sx - (float)k * 0.18f), y = (int)(sy - (float)k);
                if (x < 0 || y < 0 || x >= W || y >= H)
                    continue;
                uint8_t *o = out + ((size_t)y * W + x) * 3;
                int a = (int)(110.0f * strength);
                o[0] = (uint8_t)((o[0] * (256 - a) + pr * a) >> 8);
                o[1] = (uint8_t)((o[1] * (256 - a) + pg * a) >> 8);
                o[2] = (uint8_t)((o[2] * (256 - a) + pb * a) >> 8);
            }
            break;
        }
        case WX_SNOW:
            splat(R, out, sx, sy, (1.5f + 2.5f * p->size) * unit * p->depth, pr, pg, pb,
                  0.9f * strength);
            break;
        case WX_FIREFLIES: {
            float pulse = 0.5f + 0.5f * sinf(time * 3.0f * p->speed + p->phase);
            splat(R, out, sx, sy, (4.0f + 5.0f * p->size) * unit, pr, pg, pb,
                  pulse * 0.9f * strength);
            break;
        }
        case WX_BOKEH:
            splat(R, out, sx, sy, (12.0f + 26.0f * p->size) * unit, pr, pg, pb, 0.28f * strength);
            break;
        default:
            splat(R, out, sx, sy, (1.0f + 1.5f * p->size) * unit, pr, pg, pb, 0.6f * strength);
            break;
        }
    }
}

/*
 * One row of the vignette alone, over its n bytes: each byte times its
 * column's factor at this row, the same integer steps as the per-pixel
 * grade, in a loop simple enough to vectorise (vig3 holds each column's
 * factor three times).
 */
VECTORISE static void vignette_row(const uint16_t *restrict vig3, int vy, int n,
                                   uint8_t *restrict o)
{
    for (int i = 0; i < n; i++)
        o[i] = (uint8_t)(o[i] * ((vig3[i] * vy) >> 8) >> 8);
}

/* Style grade in place: saturation, tone LUTs, vignette, grain, letterbox. */
static void grade(renderer *R, int index, int y0, int y1, uint8_t *out)
{
    int W = R->W, H = R->H, grain = R->grain;
    int per_pixel = !R->pre_graded;
    if (!per_pixel && !R->vignette && !grain && !R->letterbox && !R->paper)
        return;
    for (int y = y0; y < y1; y++) {
        uint8_t *o = out + (size_t)y * W * 3;
        /* Grain from a generator seeded per row: the same picture for any banding. */
        uint32_t rng = (0x9E3779B9u ^ (uint32_t)index * 2654435761u) + (uint32_t)y * 0x85EBCA77u;
        rng |= 1;
        if (y < R->letterbox || y >= H - R->letterbox) {
            memset(o, 0, (size_t)W * 3);
            continue;
        }
        int vy = R->vigy[y];
        const uint8_t *paper = R->paper ? R->paper + (size_t)y * W : NULL;
        if (!per_pixel && !grain && !paper) { /* vignette only: no clamping needed */
            vignette_row(R->vig3, vy, 3 * W, o);
            continue;
        }
        for (int x = 0; x < W; x++, o += 3) {
            int b = o[0], g = o[1], r = o[2];
            if (per_pixel)
                grade_px(R, &r, &g, &b);
            if (R->vignette) {
                int v = (R->vigx[x] * vy) >> 8;
                r = r * v >> 8;
                g = g * v >> 8;
                b = b * v >> 8;
            }
            if (paper) {
                int v = 256 - paper[x];
                r = r * v >> 8;
                g = g * v >> 8;
                b = b * v >> 8;
            }
            if (grain) {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                int n = (int)(rng % (uint32_t)(2 * grain + 1)) - grain;
                r += n;
                g += n;
                b += n;
            }
            o[0] = clamp8(b);
            o[1] = clamp8(g);
            o[2] = clamp8(r);
        }
    }
}

/* Rows [y0, y1): out = out * (1 - a) + img * a, a in 0..256. */
VECTORISE static void crossfade(renderer *R, const uint8_t *restrict img, int a, int y0, int y1,
                                uint8_t *restrict out)
{
    size_t from = (size_t)y0 * R->W * 3, n = (size_t)(y1 - y0) * R->W * 3;
    out += from;
    img += from;
    if (a >= 256) {
        memcpy(out, img, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)((out[i] * (256 - a) + img[i] * a + 128) >> 8);
}

static float smooth(float x)
{
    x = fminf(1.0f, fmaxf(0.0f, x));
    return x * x * (3.0f - 2.0f * x);
}

static void band_range(const renderer *R, int k, int bands, int *y0, int *y1)
{
    *y0 = (int)((int64_t)R->H * k / bands);
    *y1 = (int)((int64_t)R->H * (k + 1) / bands);
}

static void *band_thread(void *arg)
{
    band_worker *w = arg;
    band_pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->generation == seen)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        band_fn fn = p->fn;
        const frame_args *a = p->args;
        pthread_mutex_unlock(&p->mu);
        int y0, y1;
        band_range(p->R, w->k, p->helpers + 1, &y0, &y1);
        fn(p->R, a, y0, y1);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Starts up to helpers drawing threads (fewer if the system refuses). */
static void pool_start(renderer *R, int helpers)
{
    band_pool *p = &R->pool;
    p->R = R;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (helpers > MAX_BANDS - 1)
        helpers = MAX_BANDS - 1;
    for (int k = 1; k <= helpers; k++) {
        p->w[k] = (band_worker){p, k};
        if (pthread_create(&p->th[k], NULL, band_thread, &p->w[k]))
            break;
        p->helpers = k;
    }
}

static void pool_stop(renderer *R)
{
    band_pool *p = &R->pool;
    if (!p->R)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int k = 1; k <= p->helpers; k++)
        pthread_join(p->th[k], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
    p->R = NULL;
}

/* Runs fn over all rows, split into bands across the pool. */
static void run_bands(renderer *R, band_fn fn, const frame_args *a)
{
    band_pool *p = &R->pool;
    if (!p->helpers) {
        fn(R, a, 0, R->H);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->args = a;
    p->pending = p->helpers;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    int y0, y1;
    band_range(R, 0, p->helpers + 1, &y0, &y1);
    fn(R, a, y0, y1);
    pthread_mutex_lock(&p->mu);
    while (p->pending)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/*
 * Background (sky or plate) and terrain of rows [y0, y1). Rows of the
 * letterbox bars are left black: the grade blacks them out whatever is
 * drawn there, so drawing them first would be wasted (a quarter of the
 * rows of a cinematic 16:9 frame).
 */
static void band_scene(renderer *R, const frame_args *a, int y0, int y1)
{
    int bar = R->letterbox, H = R->H;
    size_t row = (size_t)R->W * 3;
    for (int y = y0; y < y1 && y < bar; y++)
        memset(a->out + (size_t)y * row, 0, row);
    for (int y = y1 - 1; y >= y0 && y >= H - bar; y--)
        memset(a->out + (size_t)y * row, 0, row);
    y0 = y0 > bar ? y0 : bar;
    y1 = y1 < H - bar ? y1 : H - bar;
    if (y0 >= y1)
        return;
    if (a->plate) {
        plate_rows(R, y0, y1, a->out);
        if (a->alpha > 0)
            draw_layers(R, a->alpha, 2, y0, y1, a->out);
    } else {
        sky_rows(R, a->cam, a->time, a->sky_rows, y0, y1, a->out);
        draw_layers(R, 256, 0, y0, y1, a->out);
    }
}

/* Grade and cross-fades of rows [y0, y1). */
static void band_finish(renderer *R, const frame_args *a, int y0, int y1)
{
    grade(R, a->index, y0, y1, a->out);
    if (a->fade_first >= 0)
        crossfade(R, R->first, a->fade_first, y0, y1, a->out);
    if (a->fade_last >= 0)
        crossfade(R, R->last, a->fade_last, y0, y1, a->out);
}

static hh_status draw_frame(void *ctx, int index, uint8_t *out, char *msg, size_t msgsize)
{
    renderer *R = ctx;
    const hh_video_request *req = R->job->req;
    double t = R->frames > 1 ? (double)index / (R->frames - 1) : 0.0;
    float time = (float)index / HH_VIDEO_FPS;
    scene_camera cam = scene_camera_at(req->camera, req->motion_intensity, t, (double)R->W / R->H);
    if (R->sc.grade == GRADE_DOCUMENTARY) { /* the slight sway of a handheld camera */
        cam.x += 0.004f * sinf(time * 2.1f) + 0.002f * sinf(time * 5.3f);
        cam.y += 0.003f * sinf(time * 1.7f + 1.0f);
    }
    if (R->refvid) {
        hh_status rc = media_frames_get(R->refvid, index, R->plate, msg, msgsize);
        if (rc)
            return rc;
    }
    frame_args a = {.cam = cam,
                    .time = time,
                    .index = index,
                    .plate = R->plate != NULL,
                    .fade_first = -1,
                    .fade_last = -1,
                    .out = out};
    float k = 1.0f;
    if (R->plate) {
        /* The prompt's motifs come in as cfgScale asks, after the opening frames. */
        k = R->cfg * smooth((float)t / 0.3f);
        plate_tables(R, cam);
        a.alpha = (int)lrintf(k * 0.8f * 256.0f);
        if (a.alpha > 0)
            layer_tables(R, cam, time, 2);
    } else {
        a.sky_rows = layer_tables(R, cam, time, 0);
        sky_tables(R, cam, time);
    }
    run_bands(R, band_scene, &a);
    if (k > 0)
        draw_particles(R, cam, time, k, out);
    if (R->first && R->refvid && t < FADE_IN_END)
        a.fade_first = (int)lrintf(256.0f * (1.0f - smooth((float)t / (float)FADE_IN_END)));
    if (R->last && t > FADE_START)
        a.fade_last = (int)lrintf(256.0f * smooth((float)((t - FADE_START) / (1.0 - FADE_START))));
    run_bands(R, band_finish, &a);
    return HH_OK;
}

/* Base zoom of the plate so the camera's window never leaves it. */
static float plate_base_zoom(const renderer *R)
{
    const hh_video_request *req = R->job->req;
    float mx = 0, my = 0, minz = 1e9f;
    for (int i = 0; i < R->frames; i++) {
        double t = R->frames > 1 ? (double)i / (R->frames - 1) : 0.0;
        scene_camera c =
            scene_camera_at(req->camera, req->motion_intensity, t, (double)R->W / R->H);
        mx = fmaxf(mx, fabsf(c.x) * (float)R->H / (float)R->W);
        my = fmaxf(my, fabsf(c.y));
        minz = fminf(minz, c.zoom);
    }
    float z = fmaxf(1.0f / (1.0f - 2.0f * mx), 1.0f / (1.0f - 2.0f * my));
    return z / fminf(minz, 1.0f) * 1.001f;
}

/* The procedural engine's own setting: "drawThreads" (0..8, 0 = automatic). */
typedef struct procedural_cfg {
    int draw_threads;
} procedural_cfg;

static hh_status procedural_configure(hh_engine *e, const json_t *config, hh_errdetail *d)
{
    procedural_cfg *pc = calloc(1, sizeof *pc);
    if (!pc)
        return HH_ERR_NOMEM;
    e->impl = pc;
    return engine_cfg_int(config, "drawThreads", 0, 8, &pc->draw_threads, d);
}

/*
 * draw_threads draw row bands of each frame in parallel (0 = a quarter of
 * the cores when there are 8 or more, else 1). The picture does not depend
 * on it.
 */
static hh_status procedural_render(const hh_engine *e, const hh_render_job *job, char *msg,
                                   size_t msgsize)
{
    int draw_threads = ((const procedural_cfg *)e->impl)->draw_threads;
    renderer *R = calloc(1, sizeof *R);
    hh_status rc = HH_ERR_NOMEM;
    if (!R)
        goto done;
    R->job = job;
    rc = video_frame_size(job->req->resolution, job->req->aspect, &R->W, &R->H);
    if (rc)
        goto done;
    R->frames = job->req->duration_sec * HH_VIDEO_FPS;
    R->cfg = (float)job->req->cfg_scale;
    scene_build(job->req->prompt, job->req->style, job->seed, job->req->cfg_scale, &R->sc);
    rc = alloc_all(R);
    if (rc)
        goto done;
    size_t bytes = (size_t)R->W * R->H * 3;
    static const char *const what[HH_REF_COUNT] = {"source image", "last frame image",
                                                   "reference video", "reference audio"};
    for (int r = HH_REF_SOURCE_IMAGE; r <= HH_REF_LAST_FRAME; r++) {
        if (!job->input[r])
            continue;
        uint8_t **dst = r == HH_REF_SOURCE_IMAGE ? &R->first : &R->last;
        *dst = media_frame_alloc(R->W, R->H);
        rc = *dst ? media_load_image_cover(job->input[r], what[r], R->W, R->H, *dst, msg, msgsize)
                  : HH_ERR_NOMEM;
        if (rc)
            goto done;
    }
    if (job->input[HH_REF_VIDEO]) {
        rc = media_frames_open(job->input[HH_REF_VIDEO], what[HH_REF_VIDEO], R->W, R->H, R->frames,
                               &R->refvid, msg, msgsize);
        if (rc)
            goto done;
        R->plate = media_frame_alloc(R->W, R->H);
    } else if (R->first) {
        R->plate = media_frame_alloc(R->W, R->H);
        if (R->plate)
            memcpy(R->plate, R->first, bytes);
    }
    if ((job->input[HH_REF_VIDEO] || R->first) && !R->plate) {
        rc = HH_ERR_NOMEM;
        goto done;
    }
    R->plate_zb = plate_base_zoom(R);
    prepare(R);
    if (draw_threads <= 0) { /* auto: a quarter of the cores draw, x264 has the rest */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        draw_threads = n >= 8 ? (int)(n / 4) : 1;
    }
    if (draw_threads > 1)
        pool_start(R, draw_threads - 1);
    rc = engine_run_frames(job, draw_frame, R, job->input[HH_REF_AUDIO], &e->enc,
                           "HappyHorse procedural renderer (not an AI model)", msg, msgsize);
done:
    if (rc == HH_ERR_NOMEM && msg[0] == '\0')
        snprintf(msg, msgsize, "out of memory");
    if (R)
        free_all(R);
    free(R);
    return rc;
}

static const char *const procedural_keys[] = {"drawThreads", NULL};

const engine_ops engine_procedural_ops = {
    .name = "procedural",
    .label = "built-in procedural preview renderer (CPU), not an AI model",
    .keys = procedural_keys,
    .configure = procedural_configure,
    .release = free,
    .render = procedural_render,
};
