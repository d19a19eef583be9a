# Project-wide warning flags; CNG_WERROR turns them into errors.
add_library(cng_warnings INTERFACE)
target_compile_options(cng_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${CNG_WERROR}>:-Werror>)
# Hardening for everything we ship. _FORTIFY_SOURCE only when the caller's flags do not set it
# already (Debian's dpkg-buildflags give -D_FORTIFY_SOURCE=2 or 3: defining it twice would
# warn about a redefinition), and never at -O0 (Debug), where glibc ignores it with a warning.
set(_cng_caller_flags "${CMAKE_C_FLAGS} ${CMAKE_CXX_FLAGS}")
foreach(_config IN ITEMS DEBUG RELEASE RELWITHDEBINFO MINSIZEREL)
  string(APPEND _cng_caller_flags " ${CMAKE_C_FLAGS_${_config}} ${CMAKE_CXX_FLAGS_${_config}}")
endforeach()
add_compile_options(-fstack-protector-strong)
if(NOT _cng_caller_flags MATCHES "_FORTIFY_SOURCE")
  add_compile_options($<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
endif()
add_link_options(-Wl,-z,relro,-z,now)
