/*
 * media_encode.c - the contract's output: H.264 High (libx264 through
 * libavcodec), yuv420p, BT.709 tagged and converted, MP4 with +faststart,
 * an AAC track when audio is given; and the JPEG thumbnail writer.
 *
 * Every buffer (the yuv frame, the packet, the audio frame, the swscale
 * context) is allocated once in media_encoder_new; writing a frame allocates
 * nothing of ours. Part of the FFmpeg module (media_module.h).
 */
#include "media/media_module.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct media_encoder {
    AVFormatContext *oc;
    AVCodecContext *vc, *ac;
    AVStream *vs, *as;
    struct SwsContext *sws;
    AVFrame *yuv, *afr;
    AVPacket *pkt;
    int width, height, fps;
    int64_t next_pts;
    const float *audio;
    size_t audio_samples, audio_pos;
    int header_written;
};

/* Writes "what: FFmpeg's reason" into msg and returns HH_ERR_IO. */
static hh_status av_fail(char *msg, size_t msgsize, const char *what, int err)
{
    char reason[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(err, reason, sizeof reason);
    snprintf(msg, msgsize, "%s: %s", what, reason);
    return HH_ERR_IO;
}

/* Sends frame (NULL flushes) to c and writes every packet it returns to st. */
static hh_status encode_and_write(media_encoder *e, AVCodecContext *c, AVStream *st,
                                  const AVFrame *frame, char *msg, size_t msgsize)
{
    int err = avcodec_send_frame(c, frame);
    if (err < 0)
        return av_fail(msg, msgsize, "encoding failed", err);
    for (;;) {
        err = avcodec_receive_packet(c, e->pkt);
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
            return HH_OK;
        if (err < 0)
            return av_fail(msg, msgsize, "encoding failed", err);
        av_packet_rescale_ts(e->pkt, c->time_base, st->time_base);
        e->pkt->stream_index = st->index;
        err = av_interleaved_write_frame(e->oc, e->pkt);
        if (err < 0)
            return av_fail(msg, msgsize, "writing the video failed", err);
    }
}

static hh_status open_video(media_encoder *e, const media_encoder_opts *o, char *msg,
                            size_t msgsize)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) {
        snprintf(msg, msgsize, "libx264 encoder is not available in this FFmpeg");
        return HH_ERR_INTERNAL;
    }
    e->vs = avformat_new_stream(e->oc, NULL);
    e->vc = avcodec_alloc_context3(codec);
    if (!e->vs || !e->vc)
        return HH_ERR_NOMEM;
    AVCodecContext *c = e->vc;
    c->width = o->width;
    c->height = o->height;
    c->time_base = (AVRational){1, o->fps};
    c->framerate = (AVRational){o->fps, 1};
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->gop_size = o->fps * 2;
    c->color_primaries = AVCOL_PRI_BT709;
    c->color_trc = AVCOL_TRC_BT709;
    c->colorspace = AVCOL_SPC_BT709;
    c->color_range = AVCOL_RANGE_MPEG;
    c->thread_count = o->threads;
    if (e->oc->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(c->priv_data, "preset", o->preset ? o->preset : "veryfast", 0);
    av_opt_set(c->priv_data, "profile", "high", 0);
    av_opt_set_double(c->priv_data, "crf", o->crf > 0 ? o->crf : 20, 0);
    int err = avcodec_open2(c, codec, NULL);
    if (err < 0)
        return av_fail(msg, msgsize, "cannot open the H.264 encoder", err);
    err = avcodec_parameters_from_context(e->vs->codecpar, c);
    if (err < 0)
        return av_fail(msg, msgsize, "cannot set up the video stream", err);
    e->vs->time_base = c->time_base;
    e->vs->avg_frame_rate = c->framerate;

    e->yuv = av_frame_alloc();
    if (!e->yuv)
        return HH_ERR_NOMEM;
    e->yuv->format = AV_PIX_FMT_YUV420P;
    e->yuv->width = o->width;
    e->yuv->height = o->height;
    e->yuv->color_primaries = AVCOL_PRI_BT709;
    e->yuv->color_trc = AVCOL_TRC_BT709;
    e->yuv->colorspace = AVCOL_SPC_BT709;
    e->yuv->color_range = AVCOL_RANGE_MPEG;
    err = av_frame_get_buffer(e->yuv, 0);
    if (err < 0)
        return av_fail(msg, msgsize, "cannot allocate a frame", err);

    /* swscale assumes BT.601 unless told; we render full-range BGR and the
     * stream is tagged BT.709 limited range, so say exactly that. */
    e->sws = sws_getContext(o->width, o->height, AV_PIX_FMT_BGR24, o->width, o->height,
                            AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
    if (!e->sws)
        return HH_ERR_NOMEM;
    const int *bt709 = sws_getCoefficients(SWS_CS_ITU709);
    sws_setColorspaceDetails(e->sws, bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16);
    return HH_OK;
}

static hh_status open_audio(media_encoder *e, char *msg, size_t msgsize)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!codec) {
        snprintf(msg, msgsize, "AAC encoder is not available in this FFmpeg");
        return HH_ERR_INTERNAL;
    }
    e->as = avformat_new_stream(e->oc, NULL);
    e->ac = avcodec_alloc_context3(codec);
    if (!e->as || !e->ac)
        return HH_ERR_NOMEM;
    AVCodecContext *c = e->ac;
    c->sample_fmt = AV_SAMPLE_FMT_FLTP;
    c->sample_rate = MEDIA_AUDIO_RATE;
    av_channel_layout_default(&c->ch_layout, MEDIA_AUDIO_CHANNELS);
    c->bit_rate = 128000;
    c->time_base = (AVRational){1, MEDIA_AUDIO_RATE};
    if (e->oc->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int err = avcodec_open2(c, codec, NULL);
    if (err < 0)
        return av_fail(msg, msgsize, "cannot open the AAC encoder", err);
    err = avcodec_parameters_from_context(e->as->codecpar, c);
    if (err < 0)
        return av_fail(msg, msgsize, "cannot set up the audio stream", err);
    e->as->time_base = c->time_base;
    e->afr = av_frame_alloc();
    if (!e->afr)
        return HH_ERR_NOMEM;
    e->afr->format = AV_SAMPLE_FMT_FLTP;
    e->afr->sample_rate = MEDIA_AUDIO_RATE;
    e->afr->nb_samples = c->frame_size;
    err = av_channel_layout_copy(&e->afr->ch_layout, &c->ch_layout);
    if (err >= 0)
        err = av_frame_get_buffer(e->afr, 0);
    if (err < 0)
        return av_fail(msg, msgsize, "cannot allocate an audio frame", err);
    return HH_OK;
}

hh_status media_encoder_new(const char *path, const media_encoder_opts *opts, media_encoder **out,
                            char *msg, size_t msgsize)
{
    hh_status rc = HH_ERR_NOMEM;
    *out = NULL;
    media_log_install();
    if (opts->width <= 0 || opts->height <= 0 || (opts->width | opts->height) & 1 ||
        opts->fps <= 0 || opts->frames <= 0) {
        snprintf(msg, msgsize, "invalid encoder settings");
        return HH_ERR_INVALID;
    }
    media_encoder *e = calloc(1, sizeof *e);
    if (!e)
        goto fail;
    e->width = opts->width;
    e->height = opts->height;
    e->fps = opts->fps;
    e->audio = opts->audio;
    e->audio_samples = opts->audio ? opts->audio_samples : 0;
    int err = avformat_alloc_output_context2(&e->oc, NULL, "mp4", path);
    if (err < 0) {
        rc = av_fail(msg, msgsize, "cannot create the MP4", err);
        goto fail;
    }
    e->pkt = av_packet_alloc();
    if (!e->pkt)
        goto fail;
    rc = open_video(e, opts, msg, msgsize);
    if (rc)
        goto fail;
    if (e->audio) {
        rc = open_audio(e, msg, msgsize);
        if (rc)
            goto fail;
    }
    err = avio_open(&e->oc->pb, path, AVIO_FLAG_WRITE);
    if (err < 0) {
        rc = av_fail(msg, msgsize, "cannot open the output file", err);
        goto fail;
    }
    if (opts->comment)
        av_dict_set(&e->oc->metadata, "comment", opts->comment, 0);
    AVDictionary *mux = NULL;
    av_dict_set(&mux, "movflags", "+faststart", 0);
    err = avformat_write_header(e->oc, &mux);
    av_dict_free(&mux);
    if (err < 0) {
        rc = av_fail(msg, msgsize, "cannot write the MP4 header", err);
        goto fail;
    }
    e->header_written = 1;
    *out = e;
    return HH_OK;
fail:
    if (rc == HH_ERR_NOMEM)
        snprintf(msg, msgsize, "out of memory");
    media_encoder_free(e);
    return rc;
}

/* Encodes audio up to sample `until` (per channel), whole codec frames only unless last. */
static hh_status push_audio(media_encoder *e, size_t until, int last, char *msg, size_t msgsize)
{
    if (!e->ac)
        return HH_OK;
    if (until > e->audio_samples)
        until = e->audio_samples;
    size_t fs = (size_t)e->ac->frame_size;
    while (e->audio_pos < until && (last || until - e->audio_pos >= fs)) {
        size_t n = until - e->audio_pos < fs ? until - e->audio_pos : fs;
        int err = av_frame_make_writable(e->afr);
        if (err < 0)
            return av_fail(msg, msgsize, "audio frame", err);
        float *l = (float *)e->afr->data[0], *r = (float *)e->afr->data[1];
        const float *src = e->audio + e->audio_pos * 2;
        for (size_t i = 0; i < n; i++) {
            l[i] = src[2 * i];
            r[i] = src[2 * i + 1];
        }
        e->afr->nb_samples = (int)n;
        e->afr->pts = (int64_t)e->audio_pos;
        e->audio_pos += n;
        hh_status rc = encode_and_write(e, e->ac, e->as, e->afr, msg, msgsize);
        if (rc)
            return rc;
    }
    return HH_OK;
}

hh_status media_encoder_write_bgr(media_encoder *e, const uint8_t *rgb, int stride, char *msg,
                                  size_t msgsize)
{
    int err = av_frame_make_writable(e->yuv);
    if (err < 0)
        return av_fail(msg, msgsize, "video frame", err);
    const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
    const int srcstride[4] = {stride, 0, 0, 0};
    sws_scale(e->sws, src, srcstride, 0, e->height, e->yuv->data, e->yuv->linesize);
    e->yuv->pts = e->next_pts++;
    hh_status rc = encode_and_write(e, e->vc, e->vs, e->yuv, msg, msgsize);
    if (rc)
        return rc;
    size_t until = (size_t)(e->next_pts * MEDIA_AUDIO_RATE / e->fps);
    return push_audio(e, until, 0, msg, msgsize);
}

hh_status media_encoder_finish(media_encoder *e, char *msg, size_t msgsize)
{
    hh_status rc = push_audio(e, e->audio_samples, 1, msg, msgsize);
    if (!rc)
        rc = encode_and_write(e, e->vc, e->vs, NULL, msg, msgsize);
    if (!rc && e->ac)
        rc = encode_and_write(e, e->ac, e->as, NULL, msg, msgsize);
    if (rc)
        return rc;
    int err = av_write_trailer(e->oc);
    e->header_written = 0;
    if (err < 0)
        return av_fail(msg, msgsize, "cannot finish the MP4", err);
    return HH_OK;
}

void media_encoder_free(media_encoder *e)
{
    if (!e)
        return;
    if (e->oc && e->oc->pb)
        avio_closep(&e->oc->pb);
    avformat_free_context(e->oc);
    avcodec_free_context(&e->vc);
    avcodec_free_context(&e->ac);
    sws_freeContext(e->sws);
    av_frame_free(&e->yuv);
    av_frame_free(&e->afr);
    av_packet_free(&e->pkt);
    free(e);
}

hh_status media_write_jpeg(const char *path, const uint8_t *rgb, int w, int h, int stride,
                           int max_side, char *msg, size_t msgsize)
{
    hh_status rc = HH_ERR_NOMEM;
    AVCodecContext *c = NULL;
    AVFrame *f = NULL;
    AVPacket *pkt = NULL;
    struct SwsContext *sws = NULL;
    FILE *fp = NULL;
    media_log_install();

    int tw = w, th = h;
    if (w >= h && w > max_side) {
        tw = max_side;
        th = (int)((int64_t)h * max_side / w);
    } else if (h > w && h > max_side) {
        th = max_side;
        tw = (int)((int64_t)w * max_side / h);
    }
    tw &= ~1;
    th &= ~1;
    if (tw < 2 || th < 2) {
        snprintf(msg, msgsize, "thumbnail too small");
        return HH_ERR_INVALID;
    }
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) {
        snprintf(msg, msgsize, "JPEG encoder is not available in this FFmpeg");
        return HH_ERR_INTERNAL;
    }
    c = avcodec_alloc_context3(codec);
    f = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!c || !f || !pkt)
        goto fail;
    c->width = tw;
    c->height = th;
    c->time_base = (AVRational){1, 1};
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->color_range = AVCOL_RANGE_JPEG;
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * 3;
    int err = avcodec_open2(c, codec, NULL);
    if (err < 0) {
        rc = av_fail(msg, msgsize, "cannot open the JPEG encoder", err);
        goto fail;
    }
    f->format = AV_PIX_FMT_YUV420P;
    f->width = tw;
    f->height = th;
    f->color_range = AVCOL_RANGE_JPEG;
    f->quality = c->global_quality;
    if (av_frame_get_buffer(f, 0) < 0)
        goto fail;
    sws = sws_getContext(w, h, AV_PIX_FMT_BGR24, tw, th, AV_PIX_FMT_YUV420P,
                         SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!sws)
        goto fail;
    /* JPEG (JFIF) is BT.601 full range by definition. */
    const int *bt601 = sws_getCoefficients(SWS_CS_ITU601);
    sws_setColorspaceDetails(sws, bt601, 1, bt601, 1, 0, 1 << 16, 1 << 16);
    const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
    const int srcstride[4] = {stride, 0, 0, 0};
    sws_scale(sws, src, srcstride, 0, h, f->data, f->linesize);
    err = avcodec_send_frame(c, f);
    if (err >= 0)
        err = avcodec_receive_packet(c, pkt);
    if (err < 0) {
        rc = av_fail(msg, msgsize, "JPEG encoding failed", err);
        goto fail;
    }
    fp = fopen(path, "wb");
    if (!fp || fwrite(pkt->data, 1, (size_t)pkt->size, fp) != (size_t)pkt->size) {
        snprintf(msg, msgsize, "cannot write the thumbnail");
        rc = HH_ERR_IO;
        goto fail;
    }
    if (fclose(fp)) {
        fp = NULL;
        snprintf(msg, msgsize, "cannot write the thumbnail");
        rc = HH_ERR_IO;
        goto fail;
    }
    fp = NULL;
    rc = HH_OK;
fail:
    if (rc == HH_ERR_NOMEM)
        snprintf(msg, msgsize, "out of memory");
    if (fp)
        fclose(fp);
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&c);
    return rc;
}
