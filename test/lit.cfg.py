# -*- Python -*-
# lit configuration for qcc: dialect and pass tests run qcc-opt; tool and end-to-end tests run
# qcc-import / qcc-run on the data under QCC_DATA_DIR (%data), which must exist: a missing data
# folder fails the suite instead of silently skipping the tests that need it.
import os

import lit.formats
import lit.util
from lit.llvm import llvm_config

config.name = "QCC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qcc_obj_root, "test")

if not os.path.isdir(config.qcc_data_dir):
    lit_config.fatal(
        "QCC_DATA_DIR '%s' does not exist: the tests need the shared data "
        "(configure with -DQCC_DATA_DIR=...)" % config.qcc_data_dir
    )

llvm_config.use_default_substitutions()
config.substitutions.append(("%data", config.qcc_data_dir))
config.substitutions.append(("%qcc_src", config.qcc_src_root))
config.substitutions.append(("%qcc_obj", config.qcc_obj_root))
# One kernel cache for every test that builds executables (entries are written atomically).
config.substitutions.append(
    ("%kcache", os.path.join(config.qcc_obj_root, "test", "kernel-cache")))

# qcc's tools first, then LLVM's (FileCheck, not, count), also on PATH for `not` at line start.
tool_dirs = [config.qcc_tools_dir, config.llvm_tools_dir]
for tool_dir in reversed(tool_dirs):
    llvm_config.with_environment("PATH", tool_dir, append_path=True)
llvm_config.add_tool_substitutions(["qcc-opt", "qcc-import", "qcc-run", "qcc-quantize", "qcc"], tool_dirs)
