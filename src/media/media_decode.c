/*
 * media_decode.c - decoders of untrusted inputs: a customer's first/last
 * frame image, reference video and reference audio, and an exec runner's
 * output. Each input is opened as "file:<path>" with protocol_whitelist
 * "file" and a format whitelist for its kind that leaves out every demuxer
 * able to open other files (image2 sequences, concat, HLS/DASH playlists).
 * Decoders get max_pixels, and frames and samples are counted against
 * fixed ceilings, so a hostile file costs bounded memory and time and ends
 * in a one-line message, never a crash. Part of the FFmpeg module
 * (media_module.h).
 */
#include "media/media_module.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_MAX_FRAMES 2000 /* PNG files read from one sequence */
#define MAX_SPAN_SEC   120  /* seconds of a source video remapped onto the output */
#define MAX_PACKETS    200000

static const char *const whitelist[] = {
    [MEDIA_KIND_IMAGE] = "png_pipe,jpeg_pipe,webp_pipe",
    [MEDIA_KIND_VIDEO] = "mov,matroska,avi,gif",
    [MEDIA_KIND_AUDIO] = "wav,mp3,ogg,matroska,mov,aac",
};

/*
 * Picks the demuxer from the file's first bytes, among those allowed for
 * kind. FFmpeg's own probing would rank image2 (by file extension) first and
 * then refuse it as not whitelisted; sniffing ourselves also means a file is
 * only ever read by the demuxer its magic number names. NULL: not allowed.
 */
static const char *sniff_format(const char *path, media_kind kind)
{
    unsigned char b[16] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n < 12)
        return NULL;
    int riff = !memcmp(b, "RIFF", 4);
    int ebml = !memcmp(b, "\x1a\x45\xdf\xa3", 4);
    int ftyp = !memcmp(b + 4, "ftyp", 4) || !memcmp(b + 4, "moov", 4) || !memcmp(b + 4, "mdat", 4);
    switch (kind) {
    case MEDIA_KIND_IMAGE:
        if (!memcmp(b, "\x89PNG\r\n\x1a\n", 8))
            return "png_pipe";
        if (b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
            return "jpeg_pipe";
        if (riff && !memcmp(b + 8, "WEBP", 4))
            return "webp_pipe";
        return NULL;
    case MEDIA_KIND_VIDEO:
        if (ftyp)
            return "mov";
        if (ebml)
            return "matroska";
        if (riff && !memcmp(b + 8, "AVI ", 4))
            return "avi";
        if (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6))
            return "gif";
        return NULL;
    default:
        if (riff && !memcmp(b + 8, "WAVE", 4))
            return "wav";
        if (!memcmp(b, "OggS", 4))
            return "ogg";
        if (ebml)
            return "matroska";
        if (ftyp)
            return "mov";
        if (b[0] == 0xFF && (b[1] & 0xF6) == 0xF0)
            return "aac";
        if (!memcmp(b, "ID3", 3) || (b[0] == 0xFF && (b[1] & 0xE0) == 0xE0))
            return "mp3";
        return NULL;
    }
}

/* One open input: demuxer, the chosen stream's decoder, scratch frame and packet. */
typedef struct input {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVFrame *frame;
    AVPacket *pkt;
    int stream;
    int eof_sent, eof;
    long packets;
} input;

static void input_close(input *in)
{
    avcodec_free_context(&in->dec);
    avformat_close_input(&in->fmt);
    av_frame_free(&in->frame);
    av_packet_free(&in->pkt);
}

/* Writes "<what> could not be decoded" and returns HH_ERR_INVALID. */
static hh_status undecodable(char *msg, size_t msgsize, const char *what)
{
    snprintf(msg, msgsize, "%s could not be decoded", what);
    return HH_ERR_INVALID;
}

/* Opens path as kind and the decoder of its best stream of type. */
static hh_status input_open(input *in, const char *path, media_kind kind, const char *what,
                            char *msg, size_t msgsize)
{
    memset(in, 0, sizeof *in);
    media_log_install();
    enum AVMediaType type = kind == MEDIA_KIND_AUDIO ? AVMEDIA_TYPE_AUDIO : AVMEDIA_TYPE_VIDEO;
    char url[4096 + 8];
    if (snprintf(url, sizeof url, "file:%s", path) >= (int)sizeof url)
        return undecodable(msg, msgsize, what);
    in->fmt = avformat_alloc_context();
    in->frame = av_frame_alloc();
    in->pkt = av_packet_alloc();
    if (!in->fmt || !in->frame || !in->pkt) {
        snprintf(msg, msgsize, "out of memory");
        return HH_ERR_NOMEM;
    }
    const char *fmt_name = sniff_format(path, kind);
    const AVInputFormat *ifmt = fmt_name ? av_find_input_format(fmt_name) : NULL;
    if (!ifmt)
        return undecodable(msg, msgsize, what);
    in->fmt->probesize = 5 << 20;
    in->fmt->max_analyze_duration = 5 * (int64_t)AV_TIME_BASE;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    av_dict_set(&opts, "format_whitelist", whitelist[kind], 0);
    int err = avformat_open_input(&in->fmt, url, ifmt, &opts);
    av_dict_free(&opts);
    if (err < 0) {
        in->fmt = NULL; /* freed by avformat_open_input on failure */
        return undecodable(msg, msgsize, what);
    }
    if (in->fmt->nb_streams > 64)
        return undecodable(msg, msgsize, what);
    if (kind != MEDIA_KIND_IMAGE) {
        AVDictionary *sopts[64] = {NULL};
        for (unsigned i = 0; i < in->fmt->nb_streams; i++)
            av_dict_set_int(&sopts[i], "max_pixels", MEDIA_MAX_INPUT_PIXELS, 0);
        err = avformat_find_stream_info(in->fmt, sopts);
        for (unsigned i = 0; i < in->fmt->nb_streams; i++)
            av_dict_free(&sopts[i]);
        if (err < 0)
            return undecodable(msg, msgsize, what);
    }
    const AVCodec *codec = NULL;
    in->stream = av_find_best_stream(in->fmt, type, -1, -1, &codec, 0);
    if (in->stream < 0 || !codec) {
        snprintf(msg, msgsize, "%s has no %s", what,
                 type == AVMEDIA_TYPE_AUDIO ? "audio track" : "picture");
        return HH_ERR_INVALID;
    }
    AVCodecParameters *par = in->fmt->streams[in->stream]->codecpar;
    if (type == AVMEDIA_TYPE_VIDEO &&
        (par->width > MEDIA_MAX_INPUT_DIM || par->height > MEDIA_MAX_INPUT_DIM)) {
        snprintf(msg, msgsize, "%s is larger than %dx%d", what, MEDIA_MAX_INPUT_DIM,
                 MEDIA_MAX_INPUT_DIM);
        return HH_ERR_INVALID;
    }
    in->dec = avcodec_alloc_context3(codec);
    if (!in->dec) {
        snprintf(msg, msgsize, "out of memory");
        return HH_ERR_NOMEM;
    }
    if (avcodec_parameters_to_context(in->dec, par) < 0)
        return undecodable(msg, msgsize, what);
    in->dec->max_pixels = MEDIA_MAX_INPUT_PIXELS;
    in->dec->thread_count = 1;
    in->dec->pkt_timebase = in->fmt->streams[in->stream]->time_base;
    if (avcodec_open2(in->dec, codec, NULL) < 0)
        return undecodable(msg, msgsize, what);
    return HH_OK;
}

/*
 * Decodes the next frame of the chosen stream into in->frame. Returns 1 on a
 * frame, 0 at the end, -1 on a decoding error.
 */
static int input_next(input *in)
{
    for (;;) {
        int err = avcodec_receive_frame(in->dec, in->frame);
        if (err >= 0)
            return 1;
        if (err == AVERROR_EOF)
            return 0;
        if (err != AVERROR(EAGAIN))
            return -1;
        if (in->eof_sent)
            return 0;
        if (++in->packets > MAX_PACKETS)
            return -1;
        err = av_read_frame(in->fmt, in->pkt);
        if (err < 0) {
            /* End of input (or a truncated file): drain what the decoder holds. */
            in->eof_sent = 1;
            if (avcodec_send_packet(in->dec, NULL) < 0)
                return -1;
            continue;
        }
        if (in->pkt->stream_index == in->stream)
            err = avcodec_send_packet(in->dec, in->pkt);
        else
            err = 0;
        av_packet_unref(in->pkt);
        /* A corrupt packet is skipped, as players do; a file with no good
         * packet at all still ends in "could not be decoded". */
        if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_INVALIDDATA)
            return -1;
    }
}

/*
 * A scaler from frames of one format and size to BGR24 w x h, covering the
 * output and cropping the centre of the source. Re-made only when the
 * source format or size changes (sws_getCachedContext).
 */
typedef struct coverer {
    struct SwsContext *sws;
    int w, h;
} coverer;

static hh_status cover_frame(coverer *cv, const AVFrame *f, uint8_t *out, char *msg, size_t msgsize,
                             const char *what)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
    if (!d || (d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)) || f->width <= 0 ||
        f->height <= 0 || f->width > MEDIA_MAX_INPUT_DIM || f->height > MEDIA_MAX_INPUT_DIM)
        return undecodable(msg, msgsize, what);
    /* The source rectangle with the output's aspect ratio, centred. */
    double s = fmax((double)cv->w / f->width, (double)cv->h / f->height);
    int cw = (int)lround(cv->w / s), ch = (int)lround(cv->h / s);
    int ax = (1 << d->log2_chroma_w) - 1, ay = (1 << d->log2_chroma_h) - 1;
    if (d->flags & AV_PIX_FMT_FLAG_PAL)
        ax = ay = 0;
    cw = cw > f->width ? f->width : cw < 1 ? 1 : cw;
    ch = ch > f->height ? f->height : ch < 1 ? 1 : ch;
    int x = ((f->width - cw) / 2) & ~ax, y = ((f->height - ch) / 2) & ~ay;
    const uint8_t *src[4] = {NULL};
    int stride[4] = {0};
    int max_step[4];
    av_image_fill_max_pixsteps(max_step, NULL, d);
    for (int p = 0; p < 4 && f->data[p]; p++) {
        int chroma = (p == 1 || p == 2) && !(d->flags & AV_PIX_FMT_FLAG_PAL);
        int px = chroma ? x >> d->log2_chroma_w : x, py = chroma ? y >> d->log2_chroma_h : y;
        if ((d->flags & AV_PIX_FMT_FLAG_PAL) && p == 1) {
            src[p] = f->data[p]; /* the palette */
        } else {
            src[p] = f->data[p] + (ptrdiff_t)py * f->linesize[p] + (ptrdiff_t)px * max_step[p];
        }
        stride[p] = f->linesize[p];
    }
    cv->sws = sws_getCachedContext(cv->sws, cw, ch, (enum AVPixelFormat)f->format, cv->w, cv->h,
                                   AV_PIX_FMT_BGR24, SWS_BICUBIC, NULL, NULL, NULL);
    if (!cv->sws)
        return undecodable(msg, msgsize, what);
    int cs = f->colorspace == AVCOL_SPC_BT709 ||
                     (f->colorspace == AVCOL_SPC_UNSPECIFIED && f->height >= 720)
                 ? SWS_CS_ITU709
                 : SWS_CS_ITU601;
    int full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
               f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P;
    sws_setColorspaceDetails(cv->sws, sws_getCoefficients(cs), full,
                             sws_getCoefficients(SWS_CS_ITU709), 1, 0, 1 << 16, 1 << 16);
    uint8_t *dst[4] = {out, NULL, NULL, NULL};
    int dststride[4] = {cv->w * 3, 0, 0, 0};
    if (sws_scale(cv->sws, src, stride, 0, ch, dst, dststride) <= 0)
        return undecodable(msg, msgsize, what);
    return HH_OK;
}

hh_status media_load_image_cover(const char *path, const char *what, int w, int h, uint8_t *out,
                                 char *msg, size_t msgsize)
{
    input in;
    coverer cv = {NULL, w, h};
    hh_status rc = input_open(&in, path, MEDIA_KIND_IMAGE, what, msg, msgsize);
    if (rc)
        goto done;
    if (input_next(&in) != 1) {
        rc = undecodable(msg, msgsize, what);
        goto done;
    }
    rc = cover_frame(&cv, in.frame, out, msg, msgsize, what);
done:
    sws_freeContext(cv.sws);
    input_close(&in);
    return rc;
}

/* A numbered file name: prefix, the number zero-padded to digits, suffix. */
typedef struct seq_name {
    char prefix[4096];
    char suffix[64];
    int digits;
} seq_name;

/* Splits pattern at its single "%0Nd" (N = 1..9); returns -1 when it has another shape. */
static int seq_parse(const char *pattern, seq_name *n)
{
    const char *c = strchr(pattern, '%');
    if (!c || c[1] != '0' || c[2] < '1' || c[2] > '9' || c[3] != 'd' || strchr(c + 1, '%'))
        return -1;
    size_t plen = (size_t)(c - pattern);
    if (plen >= sizeof n->prefix || strlen(c + 4) >= sizeof n->suffix)
        return -1;
    memcpy(n->prefix, pattern, plen);
    n->prefix[plen] = '\0';
    memcpy(n->suffix, c + 4, strlen(c + 4) + 1);
    n->digits = c[2] - '0';
    return 0;
}

static int seq_path(const seq_name *n, int i, char *out, size_t size)
{
    int w = snprintf(out, size, "%s%0*d%s", n->prefix, n->digits, i, n->suffix);
    return w < 0 || (size_t)w >= size ? -1 : 0;
}

static int seq_exists(const seq_name *n, int i)
{
    char path[4200];
    if (seq_path(n, i, path, sizeof path))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

struct media_frames {
    int w, h, frames;
    coverer cv;
    /* video file */
    input in;
    int is_video;
    AVFrame *cur, *pending;
    int have_cur, have_pending, at_end;
    double start, span, src_fps;
    long decoded;
    /* PNG sequence */
    seq_name seq;
    int seq_first, seq_count;
    const char *what;
    char whatbuf[64];
};

/* Timestamp of f in seconds from the start of the stream. */
static double frame_time(media_frames *s, const AVFrame *f)
{
    AVStream *st = s->in.fmt->streams[s->in.stream];
    if (f->best_effort_timestamp == AV_NOPTS_VALUE)
        return (double)s->decoded / s->src_fps;
    return f->best_effort_timestamp * av_q2d(st->time_base) - s->start;
}

hh_status media_frames_open(const char *path, const char *what, int w, int h, int frames,
                            media_frames **out, char *msg, size_t msgsize)
{
    hh_status rc;
    *out = NULL;
    media_frames *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(msg, msgsize, "out of memory");
        return HH_ERR_NOMEM;
    }
    s->w = w;
    s->h = h;
    s->frames = frames;
    s->cv.w = w;
    s->cv.h = h;
    snprintf(s->whatbuf, sizeof s->whatbuf, "%s", what);
    s->what = s->whatbuf;
    if (strstr(path, "%0")) {
        if (seq_parse(path, &s->seq)) {
            rc = undecodable(msg, msgsize, what);
            goto fail;
        }
        s->seq_first = seq_exists(&s->seq, 0) ? 0 : 1;
        while (s->seq_count < SEQ_MAX_FRAMES && seq_exists(&s->seq, s->seq_first + s->seq_count))
            s->seq_count++;
        if (!s->seq_count) {
            rc = undecodable(msg, msgsize, what);
            goto fail;
        }
        *out = s;
        return HH_OK;
    }
    s->is_video = 1;
    rc = input_open(&s->in, path, MEDIA_KIND_VIDEO, what, msg, msgsize);
    if (rc)
        goto fail;
    s->cur = av_frame_alloc();
    s->pending = av_frame_alloc();
    if (!s->cur || !s->pending) {
        snprintf(msg, msgsize, "out of memory");
        rc = HH_ERR_NOMEM;
        goto fail;
    }
    AVStream *st = s->in.fmt->streams[s->in.stream];
    s->start = st->start_time != AV_NOPTS_VALUE ? st->start_time * av_q2d(st->time_base) : 0;
    s->src_fps = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0
                     ? av_q2d(st->avg_frame_rate)
                     : 24.0;
    if (s->src_fps < 1 || s->src_fps > 240)
        s->src_fps = 24.0;
    double dur = 0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        dur = st->duration * av_q2d(st->time_base);
    else if (s->in.fmt->duration != AV_NOPTS_VALUE && s->in.fmt->duration > 0)
        dur = (double)s->in.fmt->duration / AV_TIME_BASE;
    /* Unknown length: play it at its own pace and hold the last frame. */
    s->span = dur > 0 ? fmin(dur, MAX_SPAN_SEC) : (double)frames / 24.0;
    *out = s;
    return HH_OK;
fail:
    media_frames_free(s);
    return rc;
}

hh_status media_frames_get(media_frames *s, int index, uint8_t *out, char *msg, size_t msgsize)
{
    if (!s->is_video) {
        int k = (int)((int64_t)index * s->seq_count / s->frames);
        char path[4200];
        if (seq_path(&s->seq, s->seq_first + k, path, sizeof path))
            return undecodable(msg, msgsize, s->what);
        return media_load_image_cover(path, s->what, s->w, s->h, out, msg, msgsize);
    }
    double t = (index + 0.5) * s->span / s->frames;
    while (!s->at_end) {
        if (!s->have_pending) {
            if (s->decoded >= MEDIA_MAX_SOURCE_FRAMES) {
                s->at_end = 1;
                break;
            }
            int r = input_next(&s->in);
            if (r < 0 && !s->have_cur)
                return undecodable(msg, msgsize, s->what);
            if (r <= 0) {
                s->at_end = 1; /* a broken tail after good frames: hold the last good one */
                break;
            }
            av_frame_unref(s->pending);
            av_frame_move_ref(s->pending, s->in.frame);
            s->have_pending = 1;
            s->decoded++;
        }
        if (s->have_cur && frame_time(s, s->pending) > t)
            break;
        AVFrame *tmp = s->cur;
        s->cur = s->pending;
        s->pending = tmp;
        av_frame_unref(s->pending);
        s->have_cur = 1;
        s->have_pending = 0;
    }
    if (!s->have_cur)
        return undecodable(msg, msgsize, s->what);
    return cover_frame(&s->cv, s->cur, out, msg, msgsize, s->what);
}

void media_frames_free(media_frames *s)
{
    if (!s)
        return;
    if (s->is_video)
        input_close(&s->in);
    av_frame_free(&s->cur);
    av_frame_free(&s->pending);
    sws_freeContext(s->cv.sws);
    free(s);
}

int media_has_audio(const char *path)
{
    input in;
    char msg[128];
    hh_status rc = input_open(&in, path, MEDIA_KIND_AUDIO, "file", msg, sizeof msg);
    input_close(&in);
    return rc == HH_OK;
}

hh_status media_load_audio(const char *path, const char *what, size_t samples, float **out,
                           char *msg, size_t msgsize)
{
    input in;
    SwrContext *swr = NULL;
    float *pcm = NULL;
    hh_status rc = input_open(&in, path, MEDIA_KIND_AUDIO, what, msg, msgsize);
    *out = NULL;
    if (rc)
        goto done;
    pcm = calloc(samples * MEDIA_AUDIO_CHANNELS + 1, sizeof *pcm);
    if (!pcm) {
        snprintf(msg, msgsize, "out of memory");
        rc = HH_ERR_NOMEM;
        goto done;
    }
    if (in.dec->sample_rate <= 0 || in.dec->sample_rate > 384000 ||
        in.dec->ch_layout.nb_channels <= 0 || in.dec->ch_layout.nb_channels > 32) {
        rc = undecodable(msg, msgsize, what);
        goto done;
    }
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    if (swr_alloc_set_opts2(&swr, &stereo, AV_SAMPLE_FMT_FLT, MEDIA_AUDIO_RATE, &in.dec->ch_layout,
                            in.dec->sample_fmt, in.dec->sample_rate, 0, NULL) < 0 ||
        swr_init(swr) < 0) {
        rc = undecodable(msg, msgsize, what);
        goto done;
    }
    size_t got = 0;
    long frames = 0;
    int r;
    while (got < samples && (r = input_next(&in)) == 1) {
        AVFrame *f = in.frame;
        if (++frames > MEDIA_MAX_SOURCE_FRAMES * 10L ||
            f->ch_layout.nb_channels != in.dec->ch_layout.nb_channels ||
            f->sample_rate != in.dec->sample_rate || f->format != in.dec->sample_fmt) {
            rc = undecodable(msg, msgsize, what);
            goto done;
        }
        uint8_t *dst = (uint8_t *)(pcm + got * MEDIA_AUDIO_CHANNELS);
        int n = swr_convert(swr, &dst, (int)(samples - got), (const uint8_t **)f->extended_data,
                            f->nb_samples);
        av_frame_unref(f);
        if (n < 0) {
            rc = undecodable(msg, msgsize, what);
            goto done;
        }
        got += (size_t)n;
    }
    if (got < samples) {
        uint8_t *dst = (uint8_t *)(pcm + got * MEDIA_AUDIO_CHANNELS);
        int n = swr_convert(swr, &dst, (int)(samples - got), NULL, 0);
        if (n > 0)
            got += (size_t)n;
    }
    if (got == 0) {
        snprintf(msg, msgsize, "%s has no audio samples", what);
        rc = HH_ERR_INVALID;
        goto done;
    }
    /* Shorter than the video: the rest stays silent (calloc). */
    *out = pcm;
    pcm = NULL;
    rc = HH_OK;
done:
    free(pcm);
    swr_free(&swr);
    input_close(&in);
    return rc;
}
