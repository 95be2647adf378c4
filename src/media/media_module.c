/*
 * media_module.c - the FFmpeg module's table of operations and its one
 * export (media_module.h). Built into happyhorse-media.so only, with every
 * other symbol hidden and bound inside the module.
 */
#include "media/media_module.h"

static const media_module table = {
    .abi = MEDIA_MODULE_ABI,
    .encoder_new = media_encoder_new,
    .encoder_write_bgr = media_encoder_write_bgr,
    .encoder_finish = media_encoder_finish,
    .encoder_free = media_encoder_free,
    .write_jpeg = media_write_jpeg,
    .load_image_cover = media_load_image_cover,
    .frames_open = media_frames_open,
    .frames_get = media_frames_get,
    .frames_free = media_frames_free,
    .load_audio = media_load_audio,
    .has_audio = media_has_audio,
};

const media_module *media_module_get(media_host_log log)
{
    media_log_host(log);
    media_log_install();
    return &table;
}
