from typing import Any

# cffi's FFI and the libraries WeasyPrint opened with it: their attributes are the C API,
# which cffi builds at run time (a library is None when WeasyPrint could not load it).
ffi: Any
harfbuzz: Any
harfbuzz_subset: Any
