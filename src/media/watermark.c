/*
 * watermark.c - the visible "HappyHorse" mark of plans with the watermark
 * setting, drawn by our own code into BGR24 frames before they are encoded
 * (engine_frames.c calls it for every engine). A 5 x 9 dot font holds the
 * eight letters of the word; each dot is a square of `scale` pixels, white
 * at 90 % over a dark shadow one dot down and to the right.
 */
#include "media/media.h"

#define GLYPH_W  5
#define GLYPH_H  9 /* 7 rows above the baseline, 2 of descender */
#define ADVANCE  (GLYPH_W + 1)
#define WORD     "HappyHorse"
#define WORD_LEN ((int)sizeof WORD - 1)

typedef struct glyph {
    char ch;
    const char *rows[GLYPH_H];
} glyph;

static const glyph font[] = {
    {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#", ".....", "....."}},
    {'a', {".....", ".....", ".###.", "....#", ".####", "#...#", ".####", ".....", "....."}},
    {'p', {".....", ".....", "####.", "#...#", "#...#", "#...#", "####.", "#....", "#...."}},
    {'y', {".....", ".....", "#...#", "#...#", "#...#", "#...#", ".####", "....#", ".###."}},
    {'o', {".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###.", ".....", "....."}},
    {'r', {".....", ".....", "#.##.", "##..#", "#....", "#....", "#....", ".....", "....."}},
    {'s', {".....", ".....", ".####", "#....", ".###.", "....#", "####.", ".....", "....."}},
    {'e', {".....", ".....", ".###.", "#...#", "#####", "#....", ".####", ".....", "....."}},
};

static const glyph *glyph_of(char ch)
{
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].ch == ch)
            return &font[i];
    return NULL;
}

/* Pixels per dot: about a 240th of the shorter side, at least 2. */
static int dot_scale(int w, int h)
{
    int side = w < h ? w : h;
    int s = side / 240;
    return s < 2 ? 2 : s;
}

void media_watermark_box(int w, int h, int *x, int *y, int *bw, int *bh)
{
    int s = dot_scale(w, h);
    int margin = (w < h ? w : h) / 36;
    *bw = (WORD_LEN * ADVANCE) * s; /* the last advance's gap holds the shadow */
    *bh = (GLYPH_H + 1) * s;
    *x = w - margin - *bw;
    *y = h - margin - *bh;
}

/* Blends the square of side s at (x, y) towards grey level v by alpha/256. */
static void blend_dot(uint8_t *bgr, int w, int h, int stride, int x, int y, int s, int v, int alpha)
{
    for (int j = y; j < y + s; j++) {
        if (j < 0 || j >= h)
            continue;
        uint8_t *row = bgr + (size_t)j * (size_t)stride;
        for (int i = x; i < x + s; i++) {
            if (i < 0 || i >= w)
                continue;
            for (int c = 0; c < 3; c++) {
                uint8_t *p = &row[i * 3 + c];
                *p = (uint8_t)((*p * (256 - alpha) + v * alpha) >> 8);
            }
        }
    }
}

/* Calls blend_dot for every dot of the word, offset by (dx, dy) dots. */
static void draw_word(uint8_t *bgr, int w, int h, int stride, int dx, int dy, int v, int alpha)
{
    int x0, y0, bw, bh, s = dot_scale(w, h);
    media_watermark_box(w, h, &x0, &y0, &bw, &bh);
    for (int k = 0; k < WORD_LEN; k++) {
        const glyph *g = glyph_of(WORD[k]);
        for (int r = 0; g && r < GLYPH_H; r++)
            for (int c = 0; c < GLYPH_W; c++)
                if (g->rows[r][c] == '#')
                    blend_dot(bgr, w, h, stride, x0 + (k * ADVANCE + c + dx) * s, y0 + (r + dy) * s,
                              s, v, alpha);
    }
}

void media_watermark(uint8_t *bgr, int w, int h, int stride)
{
    draw_word(bgr, w, h, stride, 1, 1, 0, 160);   /* shadow */
    draw_word(bgr, w, h, stride, 0, 0, 255, 230); /* the word */
}
