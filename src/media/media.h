/*
 * media.h - everything HappyHorse does with FFmpeg's libraries, behind a
 * small interface: the MP4 encoder of the contract's output, the JPEG
 * thumbnail writer, and hardened decoders of untrusted inputs (images,
 * videos, audio).
 *
 * Pictures cross this interface as packed BGR24 (bytes B, G, R per pixel,
 * rows of `stride` bytes): swscale converts BGR24 to yuv420p on a special
 * unscaled path about three times faster than RGB24, and at 1080p that
 * conversion is a fifth of a render. The encoder converts to yuv420p with BT.709 matrices in
 * swscale (its default is BT.601) and tags the stream BT.709, limited range.
 *
 * Untrusted inputs are opened with protocol_whitelist "file" and a format
 * whitelist per kind (no playlist, concat or other demuxer that opens more
 * files), decoded with max_pixels and frame/sample ceilings, and fail with a
 * one-line message such as "reference video could not be decoded".
 *
 * All functions are thread-safe on distinct objects. Those that need FFmpeg
 * live in a module loaded on first use (media_module.h, media.c): a process
 * that never decodes or encodes never maps FFmpeg's libraries; FFmpeg's log
 * goes to util/log.h.
 */
#ifndef HH_MEDIA_H
#define HH_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define MEDIA_MAX_INPUT_DIM     8192               /* widest/tallest input picture */
#define MEDIA_MAX_INPUT_PIXELS  (40 * 1000 * 1000) /* pixels of one input picture */
#define MEDIA_MAX_SOURCE_FRAMES 20000              /* frames read from one input video */
#define MEDIA_AUDIO_RATE        48000
#define MEDIA_AUDIO_CHANNELS    2

/* What an input is, for the format whitelist and the messages. */
typedef enum media_kind {
    MEDIA_KIND_IMAGE, /* png, jpeg, webp */
    MEDIA_KIND_VIDEO, /* mp4/mov, matroska/webm, avi (e.g. MJPEG), gif */
    MEDIA_KIND_AUDIO, /* wav, mp3, ogg, webm, mp4 */
} media_kind;

/*
 * Allocates a BGR24 picture of w x h for this interface. Every picture
 * handed to or filled by these functions must come from here: swscale's
 * SIMD readers and writers run past the last pixel (a 1:1 conversion of a
 * picture that ends at a page boundary faults), so the buffer carries one
 * spare row and 64 bytes after it. Free with free(); NULL on failure.
 */
uint8_t *media_frame_alloc(int w, int h);

/*
 * HH_OK when the FFmpeg module is where this process will load it from
 * (without loading it: a process that never renders never maps FFmpeg);
 * else a message naming the path and the setting that moves it.
 */
hh_status media_ready(char *msg, size_t msgsize);

/* ---- encoder -------------------------------------------------------- */

typedef struct media_encoder media_encoder;

typedef struct media_encoder_opts {
    int width, height; /* even */
    int fps;
    int frames;           /* total frames that will be written */
    const char *preset;   /* x264 preset, NULL = "veryfast" */
    int crf;              /* 0 = 20 */
    int threads;          /* 0 = all cores */
    const float *audio;   /* optional: interleaved stereo float at 48 kHz, borrowed until free */
    size_t audio_samples; /* per channel */
    const char *comment;  /* optional MP4 "comment" tag, borrowed */
} media_encoder_opts;

/*
 * Opens path for writing an MP4 (H.264 High, yuv420p, BT.709, +faststart,
 * AAC when opts->audio is set). The caller writes exactly opts->frames
 * frames, then calls media_encoder_finish. Free with media_encoder_free.
 */
hh_status media_encoder_new(const char *path, const media_encoder_opts *opts, media_encoder **out,
                            char *msg, size_t msgsize);

/* Converts one BGR24 frame (width x height, borrowed) and encodes it. */
hh_status media_encoder_write_bgr(media_encoder *enc, const uint8_t *rgb, int stride, char *msg,
                                  size_t msgsize);

/* Flushes the encoders and writes the trailer (moving moov to the front). */
hh_status media_encoder_finish(media_encoder *enc, char *msg, size_t msgsize);

/* Frees enc (NULL is fine). An unfinished output file is left as is; the caller removes it. */
void media_encoder_free(media_encoder *enc);

/*
 * Writes a JPEG thumbnail of the BGR24 picture (w x h, borrowed), scaled
 * to a long side of at most max_side pixels, keeping the aspect ratio.
 */
hh_status media_write_jpeg(const char *path, const uint8_t *rgb, int w, int h, int stride,
                           int max_side, char *msg, size_t msgsize);

/*
 * Draws the plan watermark, the word "HappyHorse" in white with a dark
 * shadow, into the bottom-right corner of the BGR24 picture (w x h, rows
 * of stride bytes), in place. Its size follows the picture's shorter side
 * (media_watermark_box says where it lands), so it reads the same at 720p
 * and 1080p and in portrait.
 */
void media_watermark(uint8_t *bgr, int w, int h, int stride);

/* The rectangle media_watermark draws into (shadow included): left, top, width, height. */
void media_watermark_box(int w, int h, int *x, int *y, int *bw, int *bh);

/* ---- decoders of untrusted inputs ------------------------------------ */

/*
 * Decodes the image at path (first frame) and scales it to cover w x h,
 * cropping the centre: out receives w*h*3 bytes (caller's buffer). what
 * names the input in messages ("source image").
 */
hh_status media_load_image_cover(const char *path, const char *what, int w, int h, uint8_t *out,
                                 char *msg, size_t msgsize);

typedef struct media_frames media_frames;

/*
 * Opens a sequence of pictures to be remapped onto `frames` output frames
 * of w x h (scaled to cover, centre crop). path is a video file (kind
 * video) or, when it contains "%0", a printf pattern of numbered PNG files
 * starting at 1 or 0 ("dir/frame_%05d.png"). Video time is stretched or
 * squeezed so the whole source spans the output; a PNG sequence is spread
 * evenly. Free with media_frames_free.
 */
hh_status media_frames_open(const char *path, const char *what, int w, int h, int frames,
                            media_frames **out, char *msg, size_t msgsize);

/*
 * Writes output frame `index` (0-based, increasing between calls) as BGR24
 * into out (w*h*3 bytes, caller's buffer).
 */
hh_status media_frames_get(media_frames *src, int index, uint8_t *out, char *msg, size_t msgsize);

/* Frees src and closes its input (NULL is fine). */
void media_frames_free(media_frames *src);

/*
 * Decodes the audio at path, resampled to 48 kHz stereo float, trimmed or
 * padded with silence to exactly samples per channel. *out is malloc'd
 * (samples*2 floats), caller frees. No audio at all is an error.
 */
hh_status media_load_audio(const char *path, const char *what, size_t samples, float **out,
                           char *msg, size_t msgsize);

/* 1 when the file at path has an audio track media_load_audio can decode, else 0. */
int media_has_audio(const char *path);

#endif
