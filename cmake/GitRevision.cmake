# Writes OUTPUT, a header that defines DSP_GIT_REVISION: the commit of the
# checkout at SOURCE_DIR, or "unknown" where SOURCE_DIR is no git checkout
# of its own (a source archive, even one unpacked inside another checkout).
# The file is rewritten only when the revision changed, so that a build
# with no new commit recompiles nothing.
set(revision unknown)
execute_process(COMMAND git -C "${SOURCE_DIR}" rev-parse --show-toplevel HEAD
  OUTPUT_VARIABLE lines OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE failed ERROR_QUIET)
if(NOT failed)
  string(REPLACE "\n" ";" lines "${lines}")
  list(GET lines 0 top)
  list(GET lines 1 commit)
  file(REAL_PATH "${top}" top)
  file(REAL_PATH "${SOURCE_DIR}" source)
  if(top STREQUAL source)
    string(SUBSTRING "${commit}" 0 12 revision)
  endif()
endif()
file(CONFIGURE OUTPUT "${OUTPUT}"
  CONTENT "#define DSP_GIT_REVISION \"${revision}\"\n")
