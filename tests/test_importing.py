import sys

import pytest

from workbook.importing import ServiceNotFound, import_service, purge_service_modules


def write(root, service, name):
    package = root / service / "src"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text("from src.helper import NAME\nSERVICE = NAME\n")
    (package / "helper.py").write_text(f"NAME = {name!r}\n")


def test_two_services_with_a_src_package_do_not_collide(isolated_workspace):
    write(isolated_workspace, "alpha", "alpha")
    write(isolated_workspace, "beta", "beta")
    assert import_service("alpha").SERVICE == "alpha"
    assert import_service("beta").SERVICE == "beta"
    assert import_service("alpha").SERVICE == "alpha"
    service_folders = [p for p in sys.path if p.startswith(str(isolated_workspace))]
    assert service_folders == [str(isolated_workspace / "alpha")]


def test_a_rewritten_submodule_of_the_same_size_is_imported_fresh(isolated_workspace):
    write(isolated_workspace, "alpha", "one")
    assert import_service("alpha").SERVICE == "one"
    write(isolated_workspace, "alpha", "two")
    assert import_service("alpha").SERVICE == "two"


def test_purge_forgets_only_modules_from_the_services_root(isolated_workspace):
    write(isolated_workspace, "alpha", "alpha")
    import_service("alpha")
    assert "src.helper" in sys.modules
    removed = purge_service_modules()
    assert {"src", "src.main", "src.helper"} <= set(removed)
    assert "pytest" in sys.modules and "src" not in sys.modules


def test_a_missing_service_says_what_to_run():
    with pytest.raises(ServiceNotFound, match="run its %%service cells first"):
        import_service("nowhere")


def test_several_modules_in_one_call_share_one_import(isolated_workspace):
    write(isolated_workspace, "alpha", "alpha")
    main, helper = import_service("alpha", "src.main", "src.helper")
    assert main.SERVICE == helper.NAME == "alpha"
    assert sys.modules["src.helper"] is helper  # the very module main imported, not a second copy
    write(isolated_workspace, "alpha", "renamed")
    main, helper = import_service("alpha", "src.main", "src.helper")
    assert (main.SERVICE, helper.NAME) == ("renamed", "renamed")


def test_one_module_is_returned_as_a_module_not_a_tuple(isolated_workspace):
    write(isolated_workspace, "alpha", "alpha")
    assert import_service("alpha", "src.helper").NAME == "alpha"
    assert import_service("alpha").__name__ == "src.main"


def test_a_missing_module_among_several_names_it(isolated_workspace):
    write(isolated_workspace, "alpha", "alpha")
    with pytest.raises(ModuleNotFoundError, match="src.nothing"):
        import_service("alpha", "src.main", "src.nothing")
