/*
 * scene.h - the procedural engine's scene description, private to
 * src/engine/: what a prompt, a style and a seed become (setting, time of
 * day, weather, palette, terrain layers with depth, particles, grade) and
 * the camera path of a camera motion. Pure data, no pixels; the pixels are
 * drawn by engine_procedural.c.
 */
#ifndef HH_SCENE_H
#define HH_SCENE_H

#include <stdint.h>

#include "domain/video_request.h"

#define SCENE_LAYERS 4

typedef struct scene_rgb {
    float r, g, b; /* 0..1 */
} scene_rgb;

typedef enum scene_setting {
    SET_MEADOW,
    SET_CITY,
    SET_FOREST,
    SET_OCEAN,
    SET_DESERT,
    SET_MOUNTAIN,
    SET_SNOW,
    SET_SPACE,
    SET_COUNT
} scene_setting;

typedef enum scene_time { TOD_DAY, TOD_SUNSET, TOD_NIGHT, TOD_DAWN, TOD_COUNT } scene_time;

typedef enum scene_weather {
    WX_CLEAR,
    WX_RAIN,
    WX_SNOW,
    WX_FOG,
    WX_FIREFLIES,
    WX_BOKEH,
} scene_weather;

typedef enum scene_shape {
    SHAPE_HILLS,
    SHAPE_MOUNTAINS,
    SHAPE_BUILDINGS,
    SHAPE_TREES,
    SHAPE_DUNES,
    SHAPE_WATER,
} scene_shape;

typedef enum scene_grade {
    GRADE_NEUTRAL,
    GRADE_CINEMATIC,
    GRADE_ANIME,
    GRADE_NOIR,
    GRADE_VINTAGE,
    GRADE_PASTEL,
    GRADE_VIVID,
    GRADE_DOCUMENTARY,
    GRADE_WATERCOLOR,
    GRADE_RENDER3D,
    GRADE_COUNT
} scene_grade;

typedef struct scene_layer {
    scene_shape shape;
    float base;     /* baseline, fraction of frame height from the top */
    float amp;      /* relief, fraction of frame height */
    float freq;     /* features per frame height */
    float parallax; /* 0 = at infinity, 1 = the camera's own plane */
    scene_rgb top, bottom;
    uint64_t seed;
    int windows; /* buildings: lit windows */
} scene_layer;

typedef struct scene {
    scene_setting setting;
    scene_time tod;
    scene_weather weather;
    scene_grade grade;
    scene_rgb sky_top, sky_horizon, sun, cloud, particle, window;
    int has_sun;               /* sun or moon disc */
    float sun_x, sun_y, sun_r; /* fractions of frame height, world space */
    int stars;                 /* number of stars */
    float clouds;              /* 0..1 cloud cover */
    int nlayers;
    scene_layer layer[SCENE_LAYERS]; /* far to near */
    int particles;
    float saturation; /* from cfgScale: 0.6 .. 1.4 */
    uint64_t seed;
} scene;

/*
 * Builds the scene of prompt (UTF-8), style and seed into *out. Equal
 * arguments give an equal scene; words choose setting, time, weather,
 * colours and grade, the rest of the text and the seed vary the shapes.
 */
void scene_build(const char *prompt, const char *style, uint64_t seed, double cfg_scale,
                 scene *out);

/* The grade a style string picks (GRADE_NEUTRAL when none matches). */
scene_grade scene_grade_of(const char *style);

/* Camera of frame t (0..1): offsets in fractions of frame height, zoom >= some minimum. */
typedef struct scene_camera {
    float x, y; /* where the camera looks, from the centre; +x right, +y down */
    float zoom; /* 1 = no zoom */
} scene_camera;

/*
 * The camera of motion at intensity (1..5) and time t in [0, 1]. A pan or
 * tilt travels scene_pan_travel(intensity) frame heights over the clip
 * (the camera's own plane; near terrain moves a little more, far less), a
 * zoom ends (or starts) at scene_zoom_end(intensity) times.
 */
scene_camera scene_camera_at(hh_camera motion, int intensity, double t, double aspect_w_over_h);

/* Frame heights a pan or tilt travels over the clip at intensity (1..5, clamped). */
float scene_pan_travel(int intensity);

/* The magnification a zoom reaches at intensity (1..5, clamped). */
float scene_zoom_end(int intensity);

/* The zoom a plane at parallax sees when the camera zooms by zoom. */
float scene_depth_zoom(float zoom, float parallax);

/* splitmix64: the engine's deterministic generator (not for secrets). */
uint64_t scene_mix(uint64_t x);

#endif
