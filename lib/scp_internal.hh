/*
 * scp_internal: the receiver's C++ entry for consumers that decode with
 * DCMTK themselves (lib/dicom): they get the received DcmDataset as it is,
 * without the Part-10 serialisation the C callback needs.
 */
#ifndef RTC_SCP_INTERNAL_HH
#define RTC_SCP_INTERNAL_HH

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include "scp.h"

/*
 * Called (serialised, like rtc_scp_object_fn) with the received dataset,
 * after decompression when opts.decompress is set. The hook may take the
 * dataset: set *ds to NULL and delete it later. obj has every field but
 * data/len (NULL/0). RET: RTC_OK for success, else the C-STORE is refused.
 */
typedef int (*rtc_scp_dataset_fn)(void *arg, DcmDataset **ds,
    struct rtc_scp_object *obj);

/*
 * As rtc_scp_start(), but objects go to hook (with hook_arg) instead of
 * o->on_object, which may be NULL.
 */
int rtc_scp_start_dataset(struct rtc_ctx *ctx, const struct rtc_scp_opts *o,
    rtc_scp_dataset_fn hook, void *hook_arg, struct rtc_scp **out,
    char **cause);

#endif
