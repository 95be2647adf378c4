/*
 * presign.c - HMAC-SHA256 signatures for local upload URLs and the secret
 * they are made with.
 */
#include "blob/presign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/crypto.h"
#include "util/log.h"

static hh_status read_secret(int fd, uint8_t secret[PRESIGN_SECRET_LEN])
{
    struct stat st;
    if (fstat(fd, &st) || st.st_size != PRESIGN_SECRET_LEN)
        return HH_ERR_IO;
    if (st.st_mode & 077) {
        hh_error("secret.key is readable by others (mode %o); chmod 600 it", st.st_mode & 0777);
        return HH_ERR_IO;
    }
    return read(fd, secret, PRESIGN_SECRET_LEN) == PRESIGN_SECRET_LEN ? HH_OK : HH_ERR_IO;
}

hh_status presign_secret_load(const char *data_dir, uint8_t secret[PRESIGN_SECRET_LEN])
{
    char path[1100];
    snprintf(path, sizeof path, "%s/secret.key", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        hh_status rc = read_secret(fd, secret);
        close(fd);
        return rc;
    }
    if (errno != ENOENT)
        return HH_ERR_IO;
    /* First start: write the new secret under a temporary name, then link it into place,
     * so two processes starting at once end up sharing whichever secret won. */
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    hh_status rc = crypto_random(secret, PRESIGN_SECRET_LEN);
    fd = rc ? -1 : mkstemp(tmp);
    if (fd < 0)
        return HH_ERR_IO;
    if (write(fd, secret, PRESIGN_SECRET_LEN) != PRESIGN_SECRET_LEN || fsync(fd))
        rc = HH_ERR_IO;
    close(fd);
    if (!rc && link(tmp, path) && errno != EEXIST)
        rc = HH_ERR_IO;
    unlink(tmp);
    if (rc)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return HH_ERR_IO;
    rc = read_secret(fd, secret);
    close(fd);
    return rc;
}

static void mac(const uint8_t secret[PRESIGN_SECRET_LEN], const char *key, const char *type,
                int64_t size, int64_t expires, uint8_t out[CRYPTO_SHA256_LEN])
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "PUT\n%s\n%s\n%lld\n%lld", key, type, (long long)size,
                     (long long)expires);
    crypto_hmac_sha256(secret, PRESIGN_SECRET_LEN, msg, n > 0 ? (size_t)n : 0, out);
}

void presign_sign(const uint8_t secret[PRESIGN_SECRET_LEN], const char *key,
                  const char *content_type, int64_t size, int64_t expires,
                  char sig[PRESIGN_SIG_HEX])
{
    uint8_t m[CRYPTO_SHA256_LEN];
    mac(secret, key, content_type, size, expires, m);
    crypto_hex_encode(m, sizeof m, sig, PRESIGN_SIG_HEX);
}

hh_status presign_check(const uint8_t secret[PRESIGN_SECRET_LEN], const char *key,
                        const char *content_type, int64_t size, int64_t expires, const char *sig,
                        int64_t now_s)
{
    char want[PRESIGN_SIG_HEX];
    if (!sig || strlen(sig) != PRESIGN_SIG_HEX - 1)
        return HH_ERR_INVALID;
    presign_sign(secret, key, content_type, size, expires, want);
    if (!crypto_equal(want, sig, PRESIGN_SIG_HEX - 1))
        return HH_ERR_INVALID;
    /* Judged after the signature, so an attacker cannot learn which URLs were once valid. */
    return expires < now_s ? HH_ERR_LIMIT : HH_OK;
}
