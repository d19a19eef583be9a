// Helper modes of the conformance binary for data objects (see subprocess.h).
#pragma once

#include "p11_support.h"

namespace conf {

// Runs a data-object helper mode on an initialised module; -1 when mode is not one of them.
//   data-put <slot> <label> <app> <valuehex>: a token data object plus a session one
//                                            "<label>-session", then exits with both open;
//   data-dump <slot> <label>:    what this process sees of the data objects labelled <label>;
//   data-set <slot> <label> <valuehex>:  C_SetAttributeValue(CKA_VALUE) on that object;
//   data-destroy <slot> <label>:  C_DestroyObject of that object.
int RunDataHelperMode(CK_FUNCTION_LIST* f, int argc, char** argv);

}  // namespace conf
