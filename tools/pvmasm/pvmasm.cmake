# Included by every folder that assembles PVM programs at build time
# (the pvmasm target may be defined later in the configure run).
include_guard(GLOBAL)

# Assembles SOURCE (a .pvmasm file) into OUTPUT, a C file defining
# `const uint8_t NAME[]` and `NAME_len`, at build time.
function(nub_pvmasm_c_array SOURCE NAME OUTPUT)
  add_custom_command(
    OUTPUT ${OUTPUT}
    COMMAND pvmasm --c-array ${NAME} -o ${OUTPUT} ${SOURCE}
    DEPENDS pvmasm ${SOURCE}
    COMMENT "pvmasm ${SOURCE}")
endfunction()
