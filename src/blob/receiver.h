/*
 * receiver.h - receiving an upload's body as it arrives, with the checks
 * the contract asks of it, on top of a blob_writer: the body goes to a
 * temporary object chunk by chunk (never whole in memory); its first bytes
 * are checked against the declared type's magic numbers as soon as enough
 * have arrived; bytes are counted, so one byte more than declared is
 * refused at once and one byte less is refused at the end; only an exact,
 * well-typed body is committed under its key (refused if the key exists).
 * Whatever refuses, nothing is left behind.
 */
#ifndef HH_RECEIVER_H
#define HH_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"
#include "util/status.h"

typedef struct blob_receiver blob_receiver;

/* Why a receiver refused (after a call returned other than HH_OK). */
typedef enum blob_refusal {
    BLOB_REFUSE_NONE,
    BLOB_REFUSE_TOO_LONG,   /* more bytes than declared */
    BLOB_REFUSE_TOO_SHORT,  /* the body ended before the declared length */
    BLOB_REFUSE_WRONG_TYPE, /* the bytes are not of the declared content type */
    BLOB_REFUSE_EXISTS,     /* the key already holds an object */
    BLOB_REFUSE_IO,         /* storage failed (our fault, not the client's) */
} blob_refusal;

/*
 * Starts receiving size bytes of content_type for key (both copied).
 * On success *out is owned by the caller: blob_receiver_free it, whether
 * or not it was finished.
 */
hh_status blob_receiver_new(blob_store *bs, const char *key, const char *content_type, int64_t size,
                            blob_receiver **out);
/*
 * Takes the next len bytes of the body. HH_OK to go on; otherwise the
 * upload is refused (blob_receiver_refusal says why), the temporary object
 * is already gone and later calls fail the same way.
 */
hh_status blob_receiver_feed(blob_receiver *r, const void *data, size_t len);
/*
 * The body has ended: checks its length and type, then commits it. HH_OK
 * when the object now exists under key; otherwise refused as above.
 */
hh_status blob_receiver_finish(blob_receiver *r);
/* Why the last call failed; BLOB_REFUSE_NONE while all is well. */
blob_refusal blob_receiver_refusal(const blob_receiver *r);
/* Bytes taken so far. */
int64_t blob_receiver_received(const blob_receiver *r);
/* Throws away an unfinished upload and frees r (NULL is fine). */
void blob_receiver_free(blob_receiver *r);

#endif
