/*
 * test_engine.c - the engines through their interface (engine.h): engine
 * lookup and config checks; the procedural renderer's picture really moves
 * as the camera motion asks (measured on decoded frames), every motion
 * clearly visible at intensities 1, 3 and 5 and growing with them, every
 * style preset visibly different; prompts and seeds
 * change the video, equal jobs give equal videos; progress and cancel; and
 * broken inputs (truncated MP4, a PNG declaring 60000x60000 pixels, an
 * empty audio file, junk) fail with a message and no crash, also under
 * ASan. Fixtures are written by the test itself into a temporary
 * directory. Renders are 720x720 x 3 s to stay cheap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/scene.h"
#include "media/media.h"

#define W 720
#define H 720

static char dir[256];

/* Under a sanitizer build (HH_BUILD names build-asan) the mirror-image cases are skipped. */
static int reduced(void)
{
    const char *b = getenv("HH_BUILD");
    return b && strstr(b, "asan");
}

/* Why the last engine_new refused, for the assertions below. */
static hh_errdetail dd;

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hh-test-engine-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A request with the given prompt and camera, 720x720 (720p 1:1), 3 s. */
static hh_video_request *request(const char *prompt, hh_camera cam, int intensity, double cfg)
{
    hh_video_request *r = calloc(1, sizeof *r);
    assert_non_null(r);
    snprintf(r->prompt, sizeof r->prompt, "%s", prompt);
    r->duration_sec = 3;
    r->aspect = HH_ASPECT_1_1;
    r->resolution = HH_RES_720P;
    r->camera = cam;
    r->motion_intensity = intensity;
    r->cfg_scale = cfg;
    return r;
}

typedef struct progress_log {
    int calls, last, monotonic;
} progress_log;

static void on_progress(void *ctx, int pct)
{
    progress_log *p = ctx;
    if (pct < p->last)
        p->monotonic = 0;
    p->last = pct;
    p->calls++;
}

/* Renders req with the procedural engine (config: JSON text or NULL) into name.mp4 / name.jpg. */
static hh_status render_with(const char *config, const hh_video_request *req, uint64_t seed,
                             const char *inputs[4], const char *name, char *msg, size_t msgsize)
{
    hh_engine *e = NULL;
    json_t *c = config ? json_loads(config, 0, NULL) : NULL;
    assert_int_equal(engine_new("procedural", c, &e, &dd), HH_OK);
    json_decref(c);
    char video[512], thumb[512];
    snprintf(video, sizeof video, "%s/%s.mp4", dir, name);
    snprintf(thumb, sizeof thumb, "%s/%s.jpg", dir, name);
    hh_render_job job = {.req = req, .seed = seed, .video_path = video, .thumb_path = thumb};
    for (int i = 0; inputs && i < HH_REF_COUNT; i++)
        job.input[i] = inputs[i];
    hh_status rc = engine_render(e, &job, msg, msgsize);
    engine_free(e);
    return rc;
}

static hh_status render(const hh_video_request *req, uint64_t seed, const char *inputs[4],
                        const char *name, char *msg, size_t msgsize)
{
    return render_with(NULL, req, seed, inputs, name, msg, msgsize);
}

/* Decodes frames [from, to] of name.mp4 into luma planes (W*H each, caller frees). */
static uint8_t **decode_luma(const char *name, int from, int to)
{
    char video[512], msg[256];
    snprintf(video, sizeof video, "%s/%s.mp4", dir, name);
    media_frames *src = NULL;
    assert_int_equal(media_frames_open(video, "test video", W, H, 72, &src, msg, sizeof msg),
                     HH_OK);
    uint8_t *rgb = media_frame_alloc(W, H);
    uint8_t **luma = calloc((size_t)(to + 1), sizeof *luma);
    assert_non_null(rgb);
    assert_non_null(luma);
    for (int i = 0; i <= to; i++) {
        if (media_frames_get(src, i, rgb, msg, sizeof msg))
            fail_msg("decoding frame %d: %s", i, msg);
        if (i < from)
            continue;
        luma[i] = malloc((size_t)W * H);
        assert_non_null(luma[i]);
        for (int p = 0; p < W * H; p++)
            luma[i][p] =
                (uint8_t)((19 * rgb[3 * p] + 183 * rgb[3 * p + 1] + 54 * rgb[3 * p + 2]) >> 8);
    }
    free(rgb);
    media_frames_free(src);
    return luma;
}

static void free_luma(uint8_t **luma, int to)
{
    for (int i = 0; i <= to; i++)
        free(luma[i]);
    free(luma);
}

/* Mean absolute difference of b(x, y) and a(x + dx, y + dy) over rows [y0, y1). */
static double sad_shift(const uint8_t *a, const uint8_t *b, int dx, int dy, int y0, int y1)
{
    const int m = 48;
    double sum = 0;
    long n = 0;
    for (int y = (y0 > m ? y0 : m); y < y1 && y < H - m; y += 2) {
        if (y + dy < 0 || y + dy >= H)
            continue;
        for (int x = m; x < W - m; x += 2) {
            if (x + dx < 0 || x + dx >= W)
                continue;
            sum += abs((int)b[y * W + x] - (int)a[(y + dy) * W + x + dx]);
            n++;
        }
    }
    return sum / (double)n;
}

/*
 * The displacement d along one axis that best maps a onto b, b(p) ~ a(p + d),
 * the other axis held at `other`. *sad receives the match's error.
 */
static int best_shift_range(const uint8_t *a, const uint8_t *b, int vertical, int other, int y0,
                            int y1, int range, double *sad)
{
    int best = 0;
    double best_sad = 1e18;
    for (int d = -range; d <= range; d++) {
        double s = vertical ? sad_shift(a, b, other, d, y0, y1) : sad_shift(a, b, d, other, y0, y1);
        if (s < best_sad) {
            best_sad = s;
            best = d;
        }
    }
    if (sad)
        *sad = best_sad;
    return best;
}

static int best_shift_at(const uint8_t *a, const uint8_t *b, int vertical, int other, int y0,
                         int y1, double *sad)
{
    return best_shift_range(a, b, vertical, other, y0, y1, 44, sad);
}

static int best_shift(const uint8_t *a, const uint8_t *b, int vertical, int y0, int y1)
{
    return best_shift_at(a, b, vertical, 0, y0, y1, NULL);
}

/* The 2D displacement: the better axis first, then the other one given it. */
static void best_shift2(const uint8_t *a, const uint8_t *b, int *dx, int *dy)
{
    double sx, sy;
    int x = best_shift_at(a, b, 0, 0, 0, H, &sx), y = best_shift_at(a, b, 1, 0, 0, H, &sy);
    if (sx <= sy) {
        *dx = x;
        *dy = best_shift_at(a, b, 1, x, 0, H, NULL);
    } else {
        *dy = y;
        *dx = best_shift_at(a, b, 0, y, 0, H, NULL);
    }
}

/* Mean absolute difference of b and a scaled by s about the centre. */
static double sad_scale(const uint8_t *a, const uint8_t *b, double s)
{
    double sum = 0;
    long n = 0;
    for (int y = 100; y < H - 100; y += 2) {
        for (int x = 100; x < W - 100; x += 2) {
            int sx = (int)(W / 2 + (x - W / 2) / s), sy = (int)(H / 2 + (y - H / 2) / s);
            sum += abs((int)b[y * W + x] - (int)a[sy * W + sx]);
            n++;
        }
    }
    return sum / (double)n;
}

static double mean_diff(const uint8_t *a, const uint8_t *b)
{
    double sum = 0;
    for (int p = 0; p < W * H; p++)
        sum += abs((int)a[p] - (int)b[p]);
    return sum / (W * H);
}

/* Writes a textured plate (random blocks with edges, no repetition) as a JPEG. */
static void write_plate(const char *path)
{
    const int pw = 1280, ph = 960;
    uint8_t *rgb = media_frame_alloc(pw, ph);
    assert_non_null(rgb);
    uint32_t s = 12345;
    uint8_t cell[40][32][3];
    for (int cy = 0; cy < 32; cy++)
        for (int cx = 0; cx < 40; cx++)
            for (int c = 0; c < 3; c++) {
                s = s * 1664525u + 1013904223u;
                cell[cx][cy][c] = (uint8_t)(s >> 24);
            }
    for (int y = 0; y < ph; y++)
        for (int x = 0; x < pw; x++)
            for (int c = 0; c < 3; c++)
                rgb[(y * pw + x) * 3 + c] =
                    (uint8_t)(cell[x / 32][y / 30][c] / 2 + ((((uint32_t)(x / 3) * 2654435761u) ^
                                                              ((uint32_t)(y / 3) * 2246822519u)) *
                                                                 374761393u >>
                                                             26));
    char msg[256];
    assert_int_equal(media_write_jpeg(path, rgb, pw, ph, pw * 3, 2000, msg, sizeof msg), HH_OK);
    free(rgb);
}

static void test_engine_lookup(void **state)
{
    (void)state;
    hh_engine *e = NULL;
    assert_int_equal(engine_new("procedural", NULL, &e, &dd), HH_OK);
    assert_string_equal(engine_name(e), "procedural");
    engine_free(e);
    assert_int_equal(engine_new("upstream", NULL, &e, &dd), HH_ERR_INVALID);
    assert_null(e);
    assert_non_null(strstr(dd.message, "unknown engine"));
    assert_int_equal(engine_new("Procedural", NULL, &e, &dd), HH_ERR_INVALID);

    static const char *const bad[] = {
        "[]",
        "{\"preset\":\"ludicrous\"}",
        "{\"threads\":-1}",
        "{\"threads\":65}",
        "{\"threads\":2.5}",
        "{\"drawThreads\":9}",
        "{\"drawThreads\":-1}",
        "{\"drawthreads\":1}", /* a key no engine reads: a typo must not pass silently */
        "{\"command\":[\"/bin/true\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *c = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_int_equal(engine_new("procedural", c, &e, &dd), HH_ERR_INVALID);
        json_decref(c);
    }
    json_t *ok = json_loads("{\"preset\":\"ultrafast\",\"threads\":2}", 0, NULL);
    assert_int_equal(engine_new("procedural", ok, &e, &dd), HH_OK);
    engine_free(e);
    json_decref(ok);

    static const char *const bad_exec[] = {
        "{}",
        "{\"command\":[]}",
        "{\"command\":\"/bin/sh -c x\"}",
        "{\"command\":[\"\"]}",
        "{\"command\":[\"/bin/true\", 3]}",
        "{\"command\":[\"/bin/true\"],\"timeoutSec\":0}",
        "{\"command\":[\"/bin/true\"],\"timeoutSec\":86401}",
        "{\"command\":[\"/bin/true\"],\"timeoutSec\":\"60\"}",
        "{\"command\":[\"/bin/true\"],\"drawThreads\":1}",
    };
    for (size_t i = 0; i < sizeof bad_exec / sizeof bad_exec[0]; i++) {
        json_t *c = json_loads(bad_exec[i], 0, NULL);
        assert_non_null(c);
        assert_int_equal(engine_new("exec", c, &e, &dd), HH_ERR_INVALID);
        json_decref(c);
    }
    ok = json_loads("{\"command\":[\"/bin/true\"],\"timeoutSec\":86400}", 0, NULL);
    assert_int_equal(engine_new("exec", ok, &e, &dd), HH_OK);
    assert_string_equal(engine_name(e), "exec");
    engine_free(e);
    json_decref(ok);
}

/* Pan, tilt and zoom over a plate with cfgScale 0: the picture moves exactly as asked. */
/* The plans file is held against the registry: names, settings, and what each engine can do. */
static void test_engine_check_plans(void **state)
{
    (void)state;
#define PLAN(engine)                                                                               \
    "{\"plans\":[{\"name\":\"p\",\"maxDurationSec\":5,\"requestsPerMinute\":1,"                    \
    "\"jobsInFlight\":1,\"allow\":{\"1080p\":true,\"sourceImage\":true,\"lastFrame\":true,"        \
    "\"referenceVideo\":true,\"referenceAudio\":true},\"creditsPerSecond\":{\"720p\":1,"           \
    "\"1080p\":2}" engine "}]}"
    static const struct {
        const char *json;
        const char *err_has; /* NULL: accepted */
    } cases[] = {
        {PLAN(""), NULL},
        {PLAN(",\"engine\":{\"name\":\"procedural\",\"preset\":\"fast\"}"), NULL},
        {PLAN(",\"engine\":{\"name\":\"exec\",\"command\":[\"/bin/x\"]}"), NULL},
        {PLAN(",\"engine\":{\"name\":\"upstream\"}"), "plan \"p\": engine: unknown engine"},
        {PLAN(",\"engine\":{\"name\":\"exec\",\"command\":\"/bin/x\"}"),
         "plan \"p\": engine: engine config: exec needs \"command\""},
    };
#undef PLAN
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hh_plans *plans = NULL;
        hh_errdetail d = {"", ""};
        assert_int_equal(plans_load_json(cases[i].json, strlen(cases[i].json), &plans, &d), HH_OK);
        hh_status rc = engine_check_plans(plans, &d);
        if (!cases[i].err_has) {
            assert_int_equal(rc, HH_OK);
        } else {
            assert_int_equal(rc, HH_ERR_INVALID);
            assert_string_equal(d.field, "p");
            if (!strstr(d.message, cases[i].err_has))
                fail_msg("case %zu: '%s' lacks '%s'", i, d.message, cases[i].err_has);
        }
        plans_free(plans);
    }
}

static void test_plate_motion(void **state)
{
    (void)state;
    char plate[512], msg[512];
    path_in(plate, sizeof plate, "plate.jpg");
    write_plate(plate);
    const char *inputs[4] = {plate, NULL, NULL, NULL};
    static const struct {
        hh_camera cam;
        int vertical, sign, mirror;
    } cases[] = {
        {HH_CAM_PAN_RIGHT, 0, 1, 0}, {HH_CAM_PAN_LEFT, 0, -1, 1}, {HH_CAM_TILT_DOWN, 1, 1, 0},
        {HH_CAM_TILT_UP, 1, -1, 1},  {HH_CAM_STATIC, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].mirror && reduced())
            continue;
        hh_video_request *r = request("a textured wall", cases[i].cam, 3, 0.0);
        assert_int_equal(render(r, 1, inputs, "motion", msg, sizeof msg), HH_OK);
        uint8_t **l = decode_luma("motion", 20, 32);
        int dx, dy;
        best_shift2(l[20], l[32], &dx, &dy);
        int d = cases[i].vertical ? dy : dx, other = cases[i].vertical ? dx : dy;
        if (cases[i].sign == 0) {
            assert_int_equal(dx, 0);
            assert_int_equal(dy, 0);
            assert_true(mean_diff(l[20], l[32]) < 1.0);
        } else {
            /* Intensity 3 travels 0.22 of the frame height over 71 frames, magnified by
             * the plate's base zoom 1/(1 - 0.22): about 36 px in 12 frames. */
            if (d * cases[i].sign < 25 || d * cases[i].sign > 44 || abs(other) > 1)
                fail_msg("%s: shift %d (other axis %d)", video_camera_name(cases[i].cam), d, other);
        }
        free_luma(l, 32);
        free(r);
    }
    static const struct {
        hh_camera cam;
        int grows;
    } zooms[] = {{HH_CAM_ZOOM_IN, 1}, {HH_CAM_ZOOM_OUT, 0}};
    for (size_t i = 0; i < (reduced() ? 1u : 2u); i++) {
        hh_video_request *r = request("a textured wall", zooms[i].cam, 5, 0.0);
        assert_int_equal(render(r, 1, inputs, "zoom", msg, sizeof msg), HH_OK);
        /* 1.8x over 71 frames grows by 1.8^(10/71) = 1.086 in 10 frames. */
        uint8_t **l = decode_luma("zoom", 10, 20);
        double grow = sad_scale(l[10], l[20], 1.08), same = sad_scale(l[10], l[20], 1.0),
               shrink = sad_scale(l[10], l[20], 1.0 / 1.08);
        if (zooms[i].grows)
            assert_true(grow < same && grow < shrink);
        else
            assert_true(shrink < same && shrink < grow);
        free_luma(l, 20);
        free(r);
    }
}

/* The procedural scene itself: a pan shows parallax motion of the terrain. */
static void test_scene_pan_parallax(void **state)
{
    (void)state;
    char msg[512];
    hh_video_request *r = request("rocky mountain valley", HH_CAM_PAN_RIGHT, 5, 0.5);
    assert_int_equal(render(r, 3, NULL, "scene", msg, sizeof msg), HH_OK);
    uint8_t **l = decode_luma("scene", 20, 40);
    int near = best_shift(l[20], l[40], 0, H * 3 / 5, H);
    int sky = best_shift(l[20], l[40], 0, 0, H / 6);
    /* The near ground moves left on screen and faster than the sky. */
    if (near < 8 || near <= sky)
        fail_msg("near shift %d, sky shift %d", near, sky);
    free_luma(l, 40);
    free(r);
}

/* The scale s in [lo, hi] (steps of step) that best maps a onto b about the centre. */
static double best_scale(const uint8_t *a, const uint8_t *b, double lo, double hi, double step)
{
    double best = 1.0, best_sad = 1e18;
    for (double sc = lo; sc <= hi + 1e-9; sc += step) {
        double d = sad_scale(a, b, sc);
        if (d < best_sad) {
            best_sad = d;
            best = sc;
        }
    }
    return best;
}

/*
 * How far motion at intensity moved the procedural scene (no plate) from
 * frame 24 to frame 36: pixels of shift of the terrain for pans, tilts and
 * the orbit (positive: the picture moves left or up), or the magnification
 * in thousandths above 1 for zooms (negative when the picture shrinks).
 */
static int scene_motion(hh_camera motion, int intensity)
{
    char msg[512];
    hh_video_request *r = request("rocky mountain valley", motion, intensity, 0.5);
    assert_int_equal(render(r, 5, NULL, "cam", msg, sizeof msg), HH_OK);
    uint8_t **l = decode_luma("cam", 24, 36);
    int m;
    if (motion == HH_CAM_ZOOM_IN || motion == HH_CAM_ZOOM_OUT)
        m = (int)lrint((best_scale(l[24], l[36], 0.85, 1.18, 0.002) - 1.0) * 1000.0);
    else if (motion == HH_CAM_TILT_UP || motion == HH_CAM_TILT_DOWN)
        m = best_shift_range(l[24], l[36], 1, 0, H / 3, H, 110, NULL);
    else
        m = best_shift_range(l[24], l[36], 0, 0, H * 3 / 5, H, 110, NULL);
    free_luma(l, 36);
    free(r);
    return m;
}

/*
 * Every camera motion is clearly visible at every intensity and grows with
 * it: measured on decoded frames of the procedural scene at intensities 1,
 * 3 and 5, each reading points the motion's way, is past a visible floor
 * at intensity 1 (a pan or tilt moves the terrain >= 8 px in half a second,
 * a zoom grows or shrinks it >= 1.5%), and each step up is clearly more.
 * Under a sanitizer build the mirror-image motions are left to the plain one.
 */
static void test_camera_intensity(void **state)
{
    (void)state;
    static const struct {
        hh_camera cam;
        int sign, floor, step, mirror;
    } cases[] = {
        {HH_CAM_PAN_RIGHT, 1, 8, 4, 0}, {HH_CAM_PAN_LEFT, -1, 8, 4, 1},
        {HH_CAM_TILT_DOWN, 1, 8, 4, 0}, {HH_CAM_TILT_UP, -1, 8, 4, 1},
        {HH_CAM_ZOOM_IN, 1, 15, 8, 0},  {HH_CAM_ZOOM_OUT, -1, 15, 8, 1},
        {HH_CAM_ORBIT, 1, 8, 4, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].mirror && reduced())
            continue;
        int m[3];
        for (int k = 0; k < 3; k++)
            m[k] = scene_motion(cases[i].cam, 1 + 2 * k) * cases[i].sign;
        print_message("%-9s intensity 1, 3, 5: %d, %d, %d %s\n", video_camera_name(cases[i].cam),
                      m[0], m[1], m[2],
                      cases[i].cam == HH_CAM_ZOOM_IN || cases[i].cam == HH_CAM_ZOOM_OUT
                          ? "(thousandths of scale)"
                          : "(px)");
        if (m[0] < cases[i].floor || m[1] < m[0] + cases[i].step || m[2] < m[1] + cases[i].step)
            fail_msg("%s: %d, %d, %d at intensities 1, 3, 5", video_camera_name(cases[i].cam), m[0],
                     m[1], m[2]);
    }
    /* The travel the docs promise is the camera's: 10% .. 40%, 1.2x .. 1.8x. */
    assert_true(fabsf(scene_pan_travel(1) - 0.10f) < 1e-6f);
    assert_true(fabsf(scene_pan_travel(5) - 0.40f) < 1e-6f);
    assert_true(fabsf(scene_zoom_end(1) - 1.20f) < 1e-6f);
    assert_true(fabsf(scene_zoom_end(5) - 1.80f) < 1e-6f);
}

/* Mean absolute difference of two RGB frames, per channel value. */
static double rgb_diff(const uint8_t *a, const uint8_t *b)
{
    double sum = 0;
    for (size_t p = 0; p < (size_t)W * H * 3; p += 3)
        sum += abs((int)a[p] - (int)b[p]) + abs((int)a[p + 1] - (int)b[p + 1]) +
               abs((int)a[p + 2] - (int)b[p + 2]);
    return sum / ((double)W * H * 3);
}

/* Frame 36 of name.mp4 as RGB (caller frees). */
static uint8_t *decode_rgb36(const char *name)
{
    char video[512], msg[256];
    snprintf(video, sizeof video, "%s/%s.mp4", dir, name);
    media_frames *src = NULL;
    assert_int_equal(media_frames_open(video, "test video", W, H, 72, &src, msg, sizeof msg),
                     HH_OK);
    uint8_t *rgb = media_frame_alloc(W, H);
    assert_non_null(rgb);
    for (int i = 0; i <= 36; i++)
        if (media_frames_get(src, i, rgb, msg, sizeof msg))
            fail_msg("decoding frame %d: %s", i, msg);
    media_frames_free(src);
    return rgb;
}

/*
 * Each style preset of the dashboard (web/assets/presets.json, the list
 * the chips are made from) is visibly different from every other and from
 * no style: the same prompt, seed and camera, frame 36 compared in RGB.
 */
static void test_style_presets(void **state)
{
    (void)state;
    char path[1024], msg[512];
    const char *src = getenv("HH_SRC");
    snprintf(path, sizeof path, "%s/web/assets/presets.json", src ? src : ".");
    json_t *presets = json_load_file(path, 0, NULL);
    json_t *styles = json_object_get(presets, "styles");
    assert_true(json_array_size(styles) >= 6);
    size_t n = json_array_size(styles) + 1;
    uint8_t **frame = calloc(n, sizeof *frame);
    assert_non_null(frame);
    for (size_t i = 0; i < n; i++) {
        const char *style =
            i ? json_string_value(json_object_get(json_array_get(styles, i - 1), "style")) : "";
        assert_non_null(style);
        assert_true(i == 0 || scene_grade_of(style) != GRADE_NEUTRAL);
        hh_video_request *r = request("a mountain valley at sunset", HH_CAM_STATIC, 3, 0.5);
        snprintf(r->style, sizeof r->style, "%s", style);
        assert_int_equal(render(r, 11, NULL, "style", msg, sizeof msg), HH_OK);
        frame[i] = decode_rgb36("style");
        free(r);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double d = rgb_diff(frame[i], frame[j]);
            if (d < 6.0)
                fail_msg("styles %zu and %zu differ by only %.1f", i, j, d);
        }
    for (size_t i = 0; i < n; i++)
        free(frame[i]);
    free(frame);
    json_decref(presets);
}

static void test_prompts_and_seeds(void **state)
{
    (void)state;
    char msg[512];
    hh_video_request *a = request("a sunlit meadow with flowers", HH_CAM_STATIC, 3, 0.5);
    hh_video_request *b = request("a night city skyline in the rain", HH_CAM_STATIC, 3, 0.5);
    assert_int_equal(render(a, 7, NULL, "pa", msg, sizeof msg), HH_OK);
    assert_int_equal(render(a, 7, NULL, "pa2", msg, sizeof msg), HH_OK);
    assert_int_equal(render(a, 8, NULL, "pa3", msg, sizeof msg), HH_OK);
    assert_int_equal(render(b, 7, NULL, "pb", msg, sizeof msg), HH_OK);
    /* drawing in row bands on 3 threads gives the very same picture */
    assert_int_equal(render_with("{\"drawThreads\":3}", a, 7, NULL, "pa4", msg, sizeof msg), HH_OK);
    uint8_t **la = decode_luma("pa", 36, 36), **la2 = decode_luma("pa2", 36, 36),
            **la3 = decode_luma("pa3", 36, 36), **lb = decode_luma("pb", 36, 36),
            **la4 = decode_luma("pa4", 36, 36);
    assert_memory_equal(la[36], la4[36], (size_t)W * H);
    assert_memory_equal(la[36], la2[36], (size_t)W * H); /* deterministic */
    assert_true(mean_diff(la[36], la3[36]) > 1.0);       /* the seed matters */
    assert_true(mean_diff(la[36], lb[36]) > 25.0);       /* a meadow is not a night city */
    free_luma(la, 36);
    free_luma(la2, 36);
    free_luma(la3, 36);
    free_luma(lb, 36);
    free_luma(la4, 36);
    free(a);
    free(b);
}

static void test_progress_and_cancel(void **state)
{
    (void)state;
    char msg[512], video[512], thumb[512];
    hh_video_request *r = request("snowy forest", HH_CAM_NONE, 3, 0.5);
    path_in(video, sizeof video, "p.mp4");
    path_in(thumb, sizeof thumb, "p.jpg");
    progress_log log = {0, -1, 1};
    hh_engine *e = NULL;
    assert_int_equal(engine_new("procedural", NULL, &e, &dd), HH_OK);
    hh_render_job job = {.req = r,
                         .video_path = video,
                         .thumb_path = thumb,
                         .progress = on_progress,
                         .progress_ctx = &log};
    assert_int_equal(engine_render(e, &job, msg, sizeof msg), HH_OK);
    assert_int_equal(log.last, 100);
    assert_true(log.monotonic);
    assert_true(log.calls >= 50);
    atomic_int cancel = 1;
    job.cancel = &cancel;
    job.progress = NULL;
    assert_int_equal(engine_render(e, &job, msg, sizeof msg), HH_ERR_CANCELED);
    assert_string_equal(msg, "render canceled");
    engine_free(e);
    free(r);
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* A PNG whose header declares 60000 x 60000 pixels, with valid CRCs and a little data. */
static void write_huge_png(const char *path)
{
    uint8_t png[8 + 25 + 12 + 64 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *ihdr = png + 8;
    put32(ihdr, 13);
    memcpy(ihdr + 4, "IHDR", 4);
    put32(ihdr + 8, 60000);
    put32(ihdr + 12, 60000);
    ihdr[16] = 8; /* bit depth */
    ihdr[17] = 2; /* RGB */
    put32(ihdr + 21, crc32_of(ihdr + 4, 17));
    uint8_t *idat = ihdr + 25;
    put32(idat, 64);
    memcpy(idat + 4, "IDAT", 4);
    memset(idat + 8, 0x5a, 64);
    put32(idat + 72, crc32_of(idat + 4, 68));
    uint8_t *iend = idat + 76;
    put32(iend, 0);
    memcpy(iend + 4, "IEND", 4);
    put32(iend + 8, crc32_of(iend + 4, 4));
    write_file(path, png, sizeof png);
}

static void expect_input_failure(const char *name, int slot, const char *path, const char *want)
{
    char msg[512];
    hh_video_request *r = request("broken inputs", HH_CAM_STATIC, 3, 0.5);
    const char *inputs[4] = {NULL, NULL, NULL, NULL};
    inputs[slot] = path;
    hh_status rc = render(r, 1, inputs, name, msg, sizeof msg);
    if (rc != HH_ERR_INVALID || !strstr(msg, want))
        fail_msg("%s: got %s '%s', want invalid '%s'", name, hh_status_str(rc), msg, want);
    assert_null(strchr(msg, '\n'));
    assert_null(strstr(msg, dir)); /* no server path in a customer's message */
    free(r);
}

static void test_broken_inputs(void **state)
{
    (void)state;
    char path[512], good[512], msg[512];
    /* a real MP4, then cut short */
    hh_video_request *r = request("a short clip", HH_CAM_STATIC, 3, 0.5);
    assert_int_equal(render(r, 1, NULL, "good", msg, sizeof msg), HH_OK);
    free(r);
    path_in(good, sizeof good, "good.mp4");
    FILE *f = fopen(good, "rb");
    assert_non_null(f);
    uint8_t head[600];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    path_in(path, sizeof path, "truncated.mp4");
    write_file(path, head, sizeof head);
    expect_input_failure("t1", HH_REF_VIDEO, path, "reference video could not be decoded");

    path_in(path, sizeof path, "huge.png");
    write_huge_png(path);
    expect_input_failure("t2", HH_REF_SOURCE_IMAGE, path, "source image could not be decoded");
    expect_input_failure("t3", HH_REF_LAST_FRAME, path, "last frame image could not be decoded");

    path_in(path, sizeof path, "empty.wav");
    write_file(path, "", 0);
    expect_input_failure("t4", HH_REF_AUDIO, path, "reference audio could not be decoded");

    /* a WAV header that promises data it does not have */
    uint8_t wav[44] = {'R', 'I', 'F', 'F', 36, 0, 0,   0,   'W', 'A',  'V',  'E', 'f', 'm', 't',
                       ' ', 16,  0,   0,   0,  1, 0,   2,   0,   0x80, 0xbb, 0,   0,   0,   0xee,
                       2,   0,   4,   0,   16, 0, 'd', 'a', 't', 'a',  0,    0,   0,   0};
    path_in(path, sizeof path, "silent.wav");
    write_file(path, wav, sizeof wav);
    expect_input_failure("t5", HH_REF_AUDIO, path, "reference audio");

    uint8_t junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    memcpy(junk + 4, "ftypisom", 8);
    path_in(path, sizeof path, "junk.mp4");
    write_file(path, junk, sizeof junk);
    expect_input_failure("t6", HH_REF_VIDEO, path, "reference video could not be decoded");
    /* an MP4 handed in as an image, and a file that does not exist */
    expect_input_failure("t7", HH_REF_SOURCE_IMAGE, good, "source image could not be decoded");
    path_in(path, sizeof path, "missing.png");
    expect_input_failure("t8", HH_REF_SOURCE_IMAGE, path, "source image could not be decoded");
    /* a playlist is never followed */
    path_in(path, sizeof path, "list.m3u8");
    write_file(path, "#EXTM3U\n#EXTINF:1,\ngood.mp4\n", 28);
    expect_input_failure("t9", HH_REF_VIDEO, path, "reference video could not be decoded");
}

/*
 * Solid red, green, blue, white and grey through the encoder: the Y and
 * chroma bytes in the file are BT.709 limited range (not swscale's BT.601
 * default), and our decoder brings the colours back.
 */
static void test_encoder_bt709(void **state)
{
    (void)state;
    static const struct {
        uint8_t b, g, r;
        int y, u, v; /* BT.709 limited range */
    } colours[] = {
        {0, 0, 255, 63, 102, 240},      {0, 255, 0, 173, 42, 26},       {255, 0, 0, 32, 240, 118},
        {255, 255, 255, 235, 128, 128}, {128, 128, 128, 126, 128, 128},
    };
    const int w = 64, h = 64;
    uint8_t *bgr = media_frame_alloc(w, h);
    assert_non_null(bgr);
    for (size_t c = 0; c < sizeof colours / sizeof colours[0]; c++) {
        char path[512], msg[512], cmd[1200];
        snprintf(path, sizeof path, "%s/solid%zu.mp4", dir, c);
        for (int p = 0; p < w * h; p++) {
            bgr[3 * p] = colours[c].b;
            bgr[3 * p + 1] = colours[c].g;
            bgr[3 * p + 2] = colours[c].r;
        }
        media_encoder_opts o = {.width = w, .height = h, .fps = 24, .frames = 24, .crf = 1};
        media_encoder *enc = NULL;
        assert_int_equal(media_encoder_new(path, &o, &enc, msg, sizeof msg), HH_OK);
        for (int i = 0; i < 24; i++)
            assert_int_equal(media_encoder_write_bgr(enc, bgr, w * 3, msg, sizeof msg), HH_OK);
        assert_int_equal(media_encoder_finish(enc, msg, sizeof msg), HH_OK);
        media_encoder_free(enc);
        /* The raw planes, read by the ffmpeg CLI without any conversion. */
        snprintf(cmd, sizeof cmd,
                 "ffmpeg -nostdin -v error -i '%s' -frames:v 1 -f rawvideo -pix_fmt yuv420p -",
                 path);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        uint8_t yuv[64 * 64 * 3 / 2];
        size_t n = fread(yuv, 1, sizeof yuv, f);
        assert_int_equal(pclose(f), 0);
        assert_int_equal(n, sizeof yuv);
        int y = yuv[32 * 64 + 32], u = yuv[64 * 64 + 16 * 32 + 16],
            v = yuv[64 * 64 * 5 / 4 + 16 * 32 + 16];
        if (abs(y - colours[c].y) > 2 || abs(u - colours[c].u) > 2 || abs(v - colours[c].v) > 2)
            fail_msg("colour %zu: yuv %d %d %d, want %d %d %d", c, y, u, v, colours[c].y,
                     colours[c].u, colours[c].v);
        media_frames *src = NULL;
        assert_int_equal(media_frames_open(path, "solid", w, h, 24, &src, msg, sizeof msg), HH_OK);
        assert_int_equal(media_frames_get(src, 5, bgr, msg, sizeof msg), HH_OK);
        int p = 32 * w + 32;
        /* swscale's yuv-to-rgb path is a few levels off at the extremes */
        if (abs(bgr[3 * p] - colours[c].b) > 6 || abs(bgr[3 * p + 1] - colours[c].g) > 6 ||
            abs(bgr[3 * p + 2] - colours[c].r) > 6)
            fail_msg("colour %zu decoded as %d %d %d", c, bgr[3 * p], bgr[3 * p + 1],
                     bgr[3 * p + 2]);
        media_frames_free(src);
    }
    free(bgr);
}

static void *raise_later(void *arg)
{
    usleep(500 * 1000);
    atomic_store((atomic_int *)arg, 1);
    return NULL;
}

/* The exec engine reports the generator's progress and then its own, and stops on cancel. */
static void test_exec_progress_and_cancel(void **state)
{
    (void)state;
    char script[512], video[512], thumb[512], msg[512];
    path_in(script, sizeof script, "gen.sh");
    path_in(video, sizeof video, "x.mp4");
    path_in(thumb, sizeof thumb, "x.jpg");
    static const char gen[] =
        "out=${!#}\ncat >/dev/null\necho '{\"progress\": 50}'\nsleep 0.2\n"
        "ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240 -frames:v 4 "
        "\"$out/frame_%05d.png\"\nif [ -n \"$HANG\" ]; then sleep 30; fi\n";
    write_file(script, gen, sizeof gen - 1);
    json_t *config = json_pack("{s:[s,s], s:i}", "command", "bash", script, "timeoutSec", 60);
    hh_engine *e = NULL;
    assert_int_equal(engine_new("exec", config, &e, &dd), HH_OK);
    hh_video_request *r = request("anything", HH_CAM_NONE, 3, 0.5);
    progress_log log = {0, -1, 1};
    hh_render_job job = {.req = r,
                         .video_path = video,
                         .thumb_path = thumb,
                         .progress = on_progress,
                         .progress_ctx = &log};
    assert_int_equal(engine_render(e, &job, msg, sizeof msg), HH_OK);
    assert_true(log.monotonic);
    assert_int_equal(log.last, 100);
    assert_true(log.calls >= 3);

    setenv("HANG", "1", 1);
    atomic_int cancel = 0;
    job.cancel = &cancel;
    job.progress = NULL;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, raise_later, &cancel), 0);
    int64_t t0 = (int64_t)time(NULL);
    assert_int_equal(engine_render(e, &job, msg, sizeof msg), HH_ERR_CANCELED);
    assert_true((int64_t)time(NULL) - t0 < 10);
    pthread_join(th, NULL);
    unsetenv("HANG");
    engine_free(e);
    json_decref(config);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_lookup),
        cmocka_unit_test(test_encoder_bt709),
        cmocka_unit_test(test_engine_check_plans),
        cmocka_unit_test(test_plate_motion),
        cmocka_unit_test(test_camera_intensity),
        cmocka_unit_test(test_style_presets),
        cmocka_unit_test(test_scene_pan_parallax),
        cmocka_unit_test(test_prompts_and_seeds),
        cmocka_unit_test(test_progress_and_cancel),
        cmocka_unit_test(test_broken_inputs),
        cmocka_unit_test(test_exec_progress_and_cancel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
