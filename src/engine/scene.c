/*
 * scene.c - from words to a scene: keyword tables pick the setting, the
 * time of day, the weather, colour tints and the grade; a hash of the whole
 * prompt, style and seed varies everything else (shapes, hues within the
 * palette, sun position, particle count), so two prompts never give the same
 * video and the same job always gives the same one.
 */
#include "engine/scene.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include "util/hash.h"

typedef enum word_kind { W_SETTING, W_TIME, W_WEATHER, W_TINT } word_kind;

typedef struct word_rule {
    const char *word;
    word_kind kind;
    int value; /* setting, time, weather, or hue in degrees for a tint */
} word_rule;

static const word_rule words[] = {
    {"city", W_SETTING, SET_CITY},
    {"street", W_SETTING, SET_CITY},
    {"downtown", W_SETTING, SET_CITY},
    {"skyline", W_SETTING, SET_CITY},
    {"urban", W_SETTING, SET_CITY},
    {"skyscraper", W_SETTING, SET_CITY},
    {"building", W_SETTING, SET_CITY},
    {"cyberpunk", W_SETTING, SET_CITY},
    {"metropolis", W_SETTING, SET_CITY},
    {"town", W_SETTING, SET_CITY},
    {"alley", W_SETTING, SET_CITY},
    {"tokyo", W_SETTING, SET_CITY},
    {"forest", W_SETTING, SET_FOREST},
    {"wood", W_SETTING, SET_FOREST},
    {"tree", W_SETTING, SET_FOREST},
    {"jungle", W_SETTING, SET_FOREST},
    {"pine", W_SETTING, SET_FOREST},
    {"woodland", W_SETTING, SET_FOREST},
    {"ocean", W_SETTING, SET_OCEAN},
    {"sea", W_SETTING, SET_OCEAN},
    {"beach", W_SETTING, SET_OCEAN},
    {"wave", W_SETTING, SET_OCEAN},
    {"coast", W_SETTING, SET_OCEAN},
    {"shore", W_SETTING, SET_OCEAN},
    {"lake", W_SETTING, SET_OCEAN},
    {"river", W_SETTING, SET_OCEAN},
    {"harbor", W_SETTING, SET_OCEAN},
    {"island", W_SETTING, SET_OCEAN},
    {"desert", W_SETTING, SET_DESERT},
    {"dune", W_SETTING, SET_DESERT},
    {"sand", W_SETTING, SET_DESERT},
    {"canyon", W_SETTING, SET_DESERT},
    {"mountain", W_SETTING, SET_MOUNTAIN},
    {"peak", W_SETTING, SET_MOUNTAIN},
    {"alpine", W_SETTING, SET_MOUNTAIN},
    {"cliff", W_SETTING, SET_MOUNTAIN},
    {"valley", W_SETTING, SET_MOUNTAIN},
    {"volcano", W_SETTING, SET_MOUNTAIN},
    {"snowy", W_SETTING, SET_SNOW},
    {"winter", W_SETTING, SET_SNOW},
    {"glacier", W_SETTING, SET_SNOW},
    {"arctic", W_SETTING, SET_SNOW},
    {"frozen", W_SETTING, SET_SNOW},
    {"ice", W_SETTING, SET_SNOW},
    {"space", W_SETTING, SET_SPACE},
    {"galaxy", W_SETTING, SET_SPACE},
    {"nebula", W_SETTING, SET_SPACE},
    {"planet", W_SETTING, SET_SPACE},
    {"cosmos", W_SETTING, SET_SPACE},
    {"astronaut", W_SETTING, SET_SPACE},
    {"meadow", W_SETTING, SET_MEADOW},
    {"field", W_SETTING, SET_MEADOW},
    {"grass", W_SETTING, SET_MEADOW},
    {"farm", W_SETTING, SET_MEADOW},
    {"garden", W_SETTING, SET_MEADOW},
    {"countryside", W_SETTING, SET_MEADOW},
    {"night", W_TIME, TOD_NIGHT},
    {"midnight", W_TIME, TOD_NIGHT},
    {"moon", W_TIME, TOD_NIGHT},
    {"moonlit", W_TIME, TOD_NIGHT},
    {"starry", W_TIME, TOD_NIGHT},
    {"dark", W_TIME, TOD_NIGHT},
    {"neon", W_TIME, TOD_NIGHT},
    {"sunset", W_TIME, TOD_SUNSET},
    {"dusk", W_TIME, TOD_SUNSET},
    {"evening", W_TIME, TOD_SUNSET},
    {"twilight", W_TIME, TOD_SUNSET},
    {"golden", W_TIME, TOD_SUNSET},
    {"dawn", W_TIME, TOD_DAWN},
    {"sunrise", W_TIME, TOD_DAWN},
    {"morning", W_TIME, TOD_DAWN},
    {"sunny", W_TIME, TOD_DAY},
    {"sunlit", W_TIME, TOD_DAY},
    {"noon", W_TIME, TOD_DAY},
    {"day", W_TIME, TOD_DAY},
    {"bright", W_TIME, TOD_DAY},
    {"rain", W_WEATHER, WX_RAIN},
    {"rainy", W_WEATHER, WX_RAIN},
    {"storm", W_WEATHER, WX_RAIN},
    {"stormy", W_WEATHER, WX_RAIN},
    {"snow", W_WEATHER, WX_SNOW},
    {"snowing", W_WEATHER, WX_SNOW},
    {"snowfall", W_WEATHER, WX_SNOW},
    {"blizzard", W_WEATHER, WX_SNOW},
    {"fog", W_WEATHER, WX_FOG},
    {"foggy", W_WEATHER, WX_FOG},
    {"mist", W_WEATHER, WX_FOG},
    {"misty", W_WEATHER, WX_FOG},
    {"haze", W_WEATHER, WX_FOG},
    {"firefly", W_WEATHER, WX_FIREFLIES},
    {"fireflie", W_WEATHER, WX_FIREFLIES},
    {"magic", W_WEATHER, WX_FIREFLIES},
    {"sparkle", W_WEATHER, WX_FIREFLIES},
    {"glowing", W_WEATHER, WX_FIREFLIES},
    {"bokeh", W_WEATHER, WX_BOKEH},
    {"lantern", W_WEATHER, WX_BOKEH},
    {"festival", W_WEATHER, WX_BOKEH},
    {"light", W_WEATHER, WX_BOKEH},
    {"red", W_TINT, 0},
    {"crimson", W_TINT, 350},
    {"orange", W_TINT, 28},
    {"gold", W_TINT, 45},
    {"yellow", W_TINT, 55},
    {"green", W_TINT, 120},
    {"emerald", W_TINT, 140},
    {"teal", W_TINT, 175},
    {"cyan", W_TINT, 185},
    {"blue", W_TINT, 220},
    {"purple", W_TINT, 275},
    {"violet", W_TINT, 270},
    {"pink", W_TINT, 320},
    {"magenta", W_TINT, 300},
};

typedef struct grade_rule {
    const char *word;
    scene_grade grade;
} grade_rule;

/* The first rule whose word the style contains wins; the dashboard's style
 * presets (web/assets/presets.json) each name one of these words. */
static const grade_rule grades[] = {
    {"3d render", GRADE_RENDER3D},
    {"3d", GRADE_RENDER3D},
    {"cgi", GRADE_RENDER3D},
    {"render", GRADE_RENDER3D},
    {"documentary", GRADE_DOCUMENTARY},
    {"handheld", GRADE_DOCUMENTARY},
    {"watercolor", GRADE_WATERCOLOR},
    {"watercolour", GRADE_WATERCOLOR},
    {"painting", GRADE_WATERCOLOR},
    {"cinematic", GRADE_CINEMATIC},
    {"film", GRADE_CINEMATIC},
    {"movie", GRADE_CINEMATIC},
    {"anime", GRADE_ANIME},
    {"cartoon", GRADE_ANIME},
    {"manga", GRADE_ANIME},
    {"ghibli", GRADE_ANIME},
    {"noir", GRADE_NOIR},
    {"monochrome", GRADE_NOIR},
    {"black and white", GRADE_NOIR},
    {"vintage", GRADE_VINTAGE},
    {"retro", GRADE_VINTAGE},
    {"sepia", GRADE_VINTAGE},
    {"super8", GRADE_VINTAGE},
    {"pastel", GRADE_PASTEL},
    {"dreamy", GRADE_PASTEL},
    {"vivid", GRADE_VIVID},
    {"neon", GRADE_VIVID},
    {"vibrant", GRADE_VIVID},
};

uint64_t scene_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A float in [0, 1) drawn from *state. */
static float rnd(uint64_t *state)
{
    *state = scene_mix(*state);
    return (float)((*state >> 40) * (1.0 / 16777216.0));
}

static scene_rgb rgb(float r, float g, float b)
{
    return (scene_rgb){r, g, b};
}

static scene_rgb mix(scene_rgb a, scene_rgb b, float t)
{
    return rgb(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t);
}

static scene_rgb hue_rgb(float deg)
{
    float h = fmodf(deg, 360.0f) / 60.0f;
    float x = 1.0f - fabsf(fmodf(h, 2.0f) - 1.0f);
    switch ((int)h) {
    case 0:
        return rgb(1, x, 0);
    case 1:
        return rgb(x, 1, 0);
    case 2:
        return rgb(0, 1, x);
    case 3:
        return rgb(0, x, 1);
    case 4:
        return rgb(x, 0, 1);
    default:
        return rgb(1, 0, x);
    }
}

scene_grade scene_grade_of(const char *style)
{
    char low[HH_STYLE_MAX_CP * 4 + 1];
    size_t i = 0;
    for (; style[i] && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)style[i]);
    low[i] = '\0';
    for (size_t g = 0; g < sizeof grades / sizeof grades[0]; g++)
        if (strstr(low, grades[g].word))
            return grades[g].grade;
    return GRADE_NEUTRAL;
}

/* Applies every keyword of text; returns the number of tints seen (hues summed into *hue). */
static void read_words(const char *text, scene *s, int *tints, float *hue_x, float *hue_y)
{
    char w[32];
    size_t n = 0;
    for (const char *p = text;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c && (isalnum(c) || c >= 0x80)) {
            if (n < sizeof w - 1)
                w[n++] = (char)tolower(c);
            continue;
        }
        if (n) {
            w[n] = '\0';
            /* Plurals: trees, waves, mountains match their singular. */
            size_t sn = n > 3 && w[n - 1] == 's' ? n - 1 : n;
            for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
                if (strcmp(w, words[i].word) &&
                    (strlen(words[i].word) != sn || strncmp(w, words[i].word, sn)))
                    continue;
                switch (words[i].kind) {
                case W_SETTING:
                    s->setting = (scene_setting)words[i].value;
                    break;
                case W_TIME:
                    s->tod = (scene_time)words[i].value;
                    break;
                case W_WEATHER:
                    s->weather = (scene_weather)words[i].value;
                    break;
                case W_TINT:
                    (*tints)++;
                    *hue_x += cosf((float)words[i].value * 3.14159265f / 180.0f);
                    *hue_y += sinf((float)words[i].value * 3.14159265f / 180.0f);
                    break;
                }
                break;
            }
            n = 0;
        }
        if (!c)
            break;
    }
}

/* Sky and light of each time of day: top, horizon, sun/moon, cloud. */
static void light_of(scene *s)
{
    switch (s->tod) {
    case TOD_DAY:
        s->sky_top = rgb(0.20f, 0.45f, 0.85f);
        s->sky_horizon = rgb(0.70f, 0.85f, 0.97f);
        s->sun = rgb(1.0f, 0.97f, 0.85f);
        s->cloud = rgb(1.0f, 1.0f, 1.0f);
        break;
    case TOD_SUNSET:
        s->sky_top = rgb(0.25f, 0.18f, 0.45f);
        s->sky_horizon = rgb(1.0f, 0.55f, 0.25f);
        s->sun = rgb(1.0f, 0.75f, 0.35f);
        s->cloud = rgb(1.0f, 0.60f, 0.55f);
        break;
    case TOD_DAWN:
        s->sky_top = rgb(0.35f, 0.50f, 0.80f);
        s->sky_horizon = rgb(1.0f, 0.78f, 0.70f);
        s->sun = rgb(1.0f, 0.90f, 0.70f);
        s->cloud = rgb(1.0f, 0.85f, 0.85f);
        break;
    default:
        s->sky_top = rgb(0.01f, 0.02f, 0.08f);
        s->sky_horizon = rgb(0.08f, 0.10f, 0.25f);
        s->sun = rgb(0.92f, 0.94f, 1.0f);
        s->cloud = rgb(0.25f, 0.27f, 0.40f);
        break;
    }
    if (s->setting == SET_SPACE) {
        s->sky_top = rgb(0.0f, 0.0f, 0.02f);
        s->sky_horizon = rgb(0.10f, 0.03f, 0.18f);
    }
}

/* Terrain colours of a setting (near layer, lit), before depth haze. */
static scene_rgb ground_of(scene_setting set, uint64_t *st)
{
    switch (set) {
    case SET_CITY:
        return rgb(0.22f + 0.1f * rnd(st), 0.24f, 0.30f);
    case SET_FOREST:
        return rgb(0.08f, 0.30f + 0.1f * rnd(st), 0.12f);
    case SET_OCEAN:
        return rgb(0.05f, 0.30f, 0.50f + 0.1f * rnd(st));
    case SET_DESERT:
        return rgb(0.85f, 0.62f + 0.08f * rnd(st), 0.35f);
    case SET_MOUNTAIN:
        return rgb(0.35f, 0.33f + 0.05f * rnd(st), 0.38f);
    case SET_SNOW:
        return rgb(0.88f, 0.92f, 0.98f);
    case SET_SPACE:
        return rgb(0.45f, 0.40f, 0.38f);
    default:
        return rgb(0.30f + 0.1f * rnd(st), 0.62f, 0.20f);
    }
}

void scene_build(const char *prompt, const char *style, uint64_t seed, double cfg_scale, scene *s)
{
    memset(s, 0, sizeof *s);
    uint64_t h = hh_fnv1a(hh_fnv1a(HH_FNV1A_INIT, prompt), "\x1f");
    h = hh_fnv1a(h, style);
    s->seed = scene_mix(h ^ scene_mix(seed));
    uint64_t st = s->seed;
    s->setting = SET_MEADOW;
    s->tod = TOD_DAY;
    s->weather = WX_CLEAR;
    int tints = 0;
    float hx = 0, hy = 0;
    read_words(prompt, s, &tints, &hx, &hy);
    read_words(style, s, &tints, &hx, &hy);
    if (s->setting == SET_SNOW && s->weather == WX_CLEAR && rnd(&st) < 0.6f)
        s->weather = WX_SNOW;
    if (s->setting == SET_SPACE)
        s->tod = TOD_NIGHT;
    s->grade = scene_grade_of(style);
    s->saturation = (float)(0.6 + 0.8 * cfg_scale);
    light_of(s);

    /* Colour words tint the sky and the land; any other text nudges the hue a little. */
    scene_rgb tint =
        hue_rgb(tints ? atan2f(hy, hx) * 180.0f / 3.14159265f + 360.0f : rnd(&st) * 360.0f);
    float tint_amount = tints ? 0.35f : 0.08f;
    s->sky_top = mix(s->sky_top, tint, tint_amount * 0.6f);
    s->sky_horizon = mix(s->sky_horizon, tint, tint_amount);

    s->has_sun = s->setting == SET_SPACE || rnd(&st) < 0.85f;
    s->sun_x = -0.5f + rnd(&st) * 1.0f;
    s->sun_y = s->tod == TOD_SUNSET || s->tod == TOD_DAWN ? 0.42f + 0.05f * rnd(&st)
                                                          : 0.12f + 0.15f * rnd(&st);
    s->sun_r = s->setting == SET_SPACE ? 0.12f + 0.1f * rnd(&st) : 0.035f + 0.02f * rnd(&st);
    if (s->setting == SET_SPACE)
        s->sun = mix(rgb(0.8f, 0.5f, 0.3f), tint, 0.5f);
    s->stars = s->tod == TOD_NIGHT ? 150 + (int)(250 * rnd(&st)) : 0;
    s->clouds = s->setting == SET_SPACE ? 0.0f : 0.2f + 0.6f * rnd(&st);
    if (s->weather == WX_RAIN || s->weather == WX_FOG)
        s->clouds = 1.0f;
    s->window = s->tod == TOD_NIGHT ? rgb(1.0f, 0.82f, 0.45f) : rgb(0.55f, 0.70f, 0.85f);

    scene_rgb ground = mix(ground_of(s->setting, &st), tint, tint_amount * 0.5f);
    float dark = s->tod == TOD_NIGHT ? 0.25f : s->tod == TOD_SUNSET ? 0.6f : 1.0f;
    static const scene_shape far_shape[SET_COUNT] = {
        [SET_MEADOW] = SHAPE_HILLS,     [SET_CITY] = SHAPE_BUILDINGS,
        [SET_FOREST] = SHAPE_MOUNTAINS, [SET_OCEAN] = SHAPE_MOUNTAINS,
        [SET_DESERT] = SHAPE_DUNES,     [SET_MOUNTAIN] = SHAPE_MOUNTAINS,
        [SET_SNOW] = SHAPE_MOUNTAINS,   [SET_SPACE] = SHAPE_MOUNTAINS};
    static const scene_shape near_shape[SET_COUNT] = {
        [SET_MEADOW] = SHAPE_HILLS, [SET_CITY] = SHAPE_BUILDINGS, [SET_FOREST] = SHAPE_TREES,
        [SET_OCEAN] = SHAPE_WATER,  [SET_DESERT] = SHAPE_DUNES,   [SET_MOUNTAIN] = SHAPE_MOUNTAINS,
        [SET_SNOW] = SHAPE_HILLS,   [SET_SPACE] = SHAPE_HILLS};
    s->nlayers = s->setting == SET_SPACE ? 2 : SCENE_LAYERS;
    for (int l = 0; l < s->nlayers; l++) {
        scene_layer *L = &s->layer[l];
        float depth = (float)l / (float)(SCENE_LAYERS - 1); /* 0 far .. 1 near */
        L->shape = l < 2 ? far_shape[s->setting] : near_shape[s->setting];
        if (s->setting == SET_OCEAN && l == 3)
            L->shape = SHAPE_WATER;
        if (s->setting == SET_OCEAN && l == 2)
            L->shape = SHAPE_HILLS;
        if (s->setting == SET_FOREST && l >= 2)
            L->shape = SHAPE_TREES;
        L->parallax = 0.15f + 0.95f * depth * depth + 0.1f * depth;
        L->base = 0.50f + 0.14f * depth + 0.04f * rnd(&st);
        L->amp = L->shape == SHAPE_MOUNTAINS   ? 0.30f - 0.08f * depth
                 : L->shape == SHAPE_BUILDINGS ? 0.28f + 0.1f * depth
                 : L->shape == SHAPE_TREES     ? 0.22f
                 : L->shape == SHAPE_WATER     ? 0.0f
                                               : 0.09f + 0.05f * rnd(&st);
        L->freq = (L->shape == SHAPE_BUILDINGS ? 5.0f
                   : L->shape == SHAPE_TREES   ? 9.0f
                                               : 1.2f) *
                  (0.8f + 0.4f * rnd(&st)) * (1.0f + depth);
        L->seed = scene_mix(st ^ (uint64_t)(l + 1));
        /* Aerial perspective: far layers fade into the horizon's colour. */
        float haze = (1.0f - depth) * (s->weather == WX_FOG ? 0.85f : 0.6f);
        scene_rgb lit = mix(ground, rgb(ground.r * dark, ground.g * dark, ground.b * dark), 0.7f);
        if (L->shape == SHAPE_MOUNTAINS && s->setting != SET_DESERT)
            lit = mix(lit, rgb(0.45f, 0.45f, 0.55f), 0.5f);
        L->top = mix(lit, s->sky_horizon, haze);
        L->bottom =
            mix(rgb(lit.r * 0.45f, lit.g * 0.45f, lit.b * 0.45f), s->sky_horizon, haze * 0.7f);
        L->windows = L->shape == SHAPE_BUILDINGS;
    }
    switch (s->weather) {
    case WX_RAIN:
        s->particles = 300;
        s->particle = rgb(0.75f, 0.80f, 0.90f);
        break;
    case WX_SNOW:
        s->particles = 260;
        s->particle = rgb(1, 1, 1);
        break;
    case WX_FIREFLIES:
        s->particles = 90;
        s->particle = rgb(1.0f, 0.9f, 0.4f);
        break;
    case WX_BOKEH:
        s->particles = 40;
        s->particle = mix(rgb(1.0f, 0.8f, 0.5f), tint, 0.4f);
        break;
    default:
        s->particles = s->setting == SET_MEADOW ? 30 : 0; /* drifting pollen */
        s->particle = rgb(1.0f, 1.0f, 0.85f);
        break;
    }
}

/* How far each intensity moves the camera over the whole clip
 * (docs/site/<lang>/style-and-camera.md). */
static const float pan_travel[HH_INTENSITY_MAX] = {0.10f, 0.16f, 0.22f, 0.30f, 0.40f};
static const float zoom_end[HH_INTENSITY_MAX] = {1.20f, 1.30f, 1.45f, 1.60f, 1.80f};

float scene_pan_travel(int intensity)
{
    int i = intensity < HH_INTENSITY_MIN   ? HH_INTENSITY_MIN
            : intensity > HH_INTENSITY_MAX ? HH_INTENSITY_MAX
                                           : intensity;
    return pan_travel[i - 1];
}

float scene_zoom_end(int intensity)
{
    int i = intensity < HH_INTENSITY_MIN   ? HH_INTENSITY_MIN
            : intensity > HH_INTENSITY_MAX ? HH_INTENSITY_MAX
                                           : intensity;
    return zoom_end[i - 1];
}

float scene_depth_zoom(float zoom, float parallax)
{
    /* Far things grow less than near ones, but every plane grows: a zoom
     * shows over the sky and the horizon, not only on the foreground. */
    return powf(zoom, 0.7f + 0.3f * fminf(parallax, 1.2f));
}

scene_camera scene_camera_at(hh_camera motion, int intensity, double t, double aspect)
{
    (void)aspect; /* travel is in frame heights whatever the shape */
    scene_camera c = {0, 0, 1};
    float pan = scene_pan_travel(intensity), zoom = scene_zoom_end(intensity);
    float tt = (float)t;
    switch (motion) {
    case HH_CAM_STATIC:
        break;
    case HH_CAM_NONE: /* an unobtrusive drift, so the scene still breathes */
        c.x = 0.02f * tt;
        c.zoom = 1.0f + 0.02f * tt;
        break;
    case HH_CAM_PAN_LEFT:
        c.x = pan * (0.5f - tt);
        break;
    case HH_CAM_PAN_RIGHT:
        c.x = pan * (tt - 0.5f);
        break;
    case HH_CAM_TILT_UP:
        c.y = pan * (0.5f - tt);
        break;
    case HH_CAM_TILT_DOWN:
        c.y = pan * (tt - 0.5f);
        break;
    case HH_CAM_ZOOM_IN: /* exponential: every frame grows by the same factor */
        c.zoom = powf(zoom, tt);
        break;
    case HH_CAM_ZOOM_OUT:
        c.zoom = powf(zoom, 1.0f - tt);
        break;
    case HH_CAM_ORBIT: /* around the subject: sideways, a little up, pushing in mid-way */
        c.x = -0.5f * pan * cosf(3.14159265f * tt);
        c.y = 0.1f * pan * sinf(3.14159265f * tt);
        c.zoom = 1.0f + 0.3f * (zoom - 1.0f) * sinf(3.14159265f * tt);
        break;
    default:
        break;
    }
    return c;
}
