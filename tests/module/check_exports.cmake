# ctest: the shared library exports exactly C_GetFunctionList, C_GetInterfaceList and
# C_GetInterface (nm -D --defined-only). Usage: cmake -DNM=nm -DLIB=libcng_pkcs11.so -P this
execute_process(COMMAND ${NM} -D --defined-only ${LIB}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIB}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(symbols "")
foreach(line IN LISTS lines)
  # "<address> <type> <name>"; version-node entries (type A) are not symbols of code or data.
  if(line MATCHES "^[0-9a-fA-F]+ ([A-Za-z]) (.+)$" AND NOT CMAKE_MATCH_1 STREQUAL "A")
    list(APPEND symbols "${CMAKE_MATCH_2}")
  endif()
endforeach()
list(SORT symbols)
set(expected C_GetFunctionList C_GetInterface C_GetInterfaceList)
if(NOT symbols STREQUAL expected)
  message(FATAL_ERROR "exported symbols: '${symbols}', expected exactly '${expected}'")
endif()
message(STATUS "exports: ${symbols}")
