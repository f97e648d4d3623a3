# Two flavours of compile flags, as interface libraries a target links:
#   nub_hosted_flags       ordinary Linux user space (plus ASan+UBSan in test builds)
#   nub_freestanding_flags the guest kernel: no libc, no red zone, no SSE,
#                          only the compiler's own headers on the include path.

add_library(nub_hosted_flags INTERFACE)
target_compile_options(nub_hosted_flags INTERFACE -Wall -Wextra -Werror)
target_compile_definitions(nub_hosted_flags INTERFACE _GNU_SOURCE)
if(NUB_SANITIZE)
  target_compile_options(nub_hosted_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(nub_hosted_flags INTERFACE -fsanitize=address,undefined)
endif()

# The compiler's own header folder (stdint.h, stddef.h, stdbool.h, ...): the
# only headers freestanding code may see besides the project's.
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-resource-dir
                  OUTPUT_VARIABLE NUB_CC_RESOURCE_DIR OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(NUB_CC_INCLUDE_DIR ${NUB_CC_RESOURCE_DIR}/include)
else()
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                  OUTPUT_VARIABLE NUB_CC_INCLUDE_DIR OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()

add_library(nub_freestanding_flags INTERFACE)
target_compile_options(nub_freestanding_flags INTERFACE
  -Wall -Wextra -Werror
  -ffreestanding -nostdinc -isystem ${NUB_CC_INCLUDE_DIR}
  -mno-red-zone -mgeneral-regs-only -fno-pic -fno-pie -fno-stack-protector
  -fno-asynchronous-unwind-tables -fno-builtin -O2)
target_compile_definitions(nub_freestanding_flags INTERFACE NUB_FREESTANDING=1)
