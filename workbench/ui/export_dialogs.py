"""Asking where an export goes: named from the tune's title, in the last folder, never a silent
replacement.

One tune is exported through a save dialog that proposes ``The_Kesh.mid`` (the title through
``safe_stem``) in the folder of the last export, which QSettings remembers across runs. The
dialog itself asks before replacing a file (natively, and Qt's own dialog too, since
``DontConfirmOverwrite`` is never set); when a suffix is added to the name typed, the file then
meant was never shown to the dialog, so it is asked about here. Several tunes go into a folder
under names from their titles; files already there are replaced only when the user says so,
else the new tunes take free names (``The_Kesh-2.mid``) and the caller says which.

The dialogs are the static ``QFileDialog``/``QMessageBox`` functions, so tests answer them with
monkeypatch.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from workbench.notation.convert import free_names, safe_stem

FOLDER_KEY = "export/folder"
MAX_LISTED = 5  # existing files named in a question; the rest are counted


def last_folder(settings: QSettings) -> Path:
    """The folder of the last export (the home folder before any, or once it is gone)."""
    value = settings.value(FOLDER_KEY, "")
    folder = Path(str(value)) if value else Path.home()
    return folder if folder.is_dir() else Path.home()


def remember_folder(settings: QSettings, folder: Path) -> None:
    settings.setValue(FOLDER_KEY, str(folder))


def file_stem(title: str, fallback: str = "tune") -> str:
    """The file name stem for a tune titled ``title`` (``The Kesh`` -> ``The_Kesh``)."""
    return safe_stem(title, fallback)


def confirm_replace(parent: QWidget | None, paths: list[Path]) -> bool:
    """Ask whether to replace the existing files ``paths``; True only for Yes."""
    names = ", ".join(p.name for p in paths[:MAX_LISTED])
    if len(paths) > MAX_LISTED:
        names += f" and {len(paths) - MAX_LISTED} more"
    what = f"{paths[0].name} already exists" if len(paths) == 1 else f"{names} already exist"
    answer = QMessageBox.question(
        parent,
        "Replace file?",
        f"{what} in {paths[0].parent}. Replace {'it' if len(paths) == 1 else 'them'}?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_save_path(
    parent: QWidget | None,
    settings: QSettings,
    caption: str,
    title: str,
    suffix: str,
    file_filter: str,
    selected_filter: str = "",
) -> tuple[Path | None, str]:
    """A file to write one tune to, and the filter chosen; (None, "") when cancelled.

    The dialog starts at ``<last folder>/<title stem><suffix>``. A name typed without a suffix
    gets the chosen filter's (or ``suffix``); if that file exists, the user is asked.
    """
    start = last_folder(settings) / f"{file_stem(title)}{suffix}"
    name, chosen = QFileDialog.getSaveFileName(
        parent, caption, str(start), file_filter, selected_filter or ""
    )
    if not name:
        return None, ""
    path = Path(name)
    if not path.suffix:
        path = path.with_name(path.name + (filter_suffix(chosen) or suffix))
        # The dialog confirmed the name as typed, not this one.
        if path.exists() and not confirm_replace(parent, [path]):
            return None, ""
    remember_folder(settings, path.parent)
    return path, chosen


def filter_suffix(file_filter: str) -> str:
    """``.mid`` for ``"MIDI file (*.mid)"``; "" when the filter names no single suffix."""
    start, end = file_filter.rfind("(*."), file_filter.rfind(")")
    if start < 0 or end < start:
        return ""
    suffix = file_filter[start + 2 : end]
    return "" if " " in suffix or "*" in suffix else suffix


def ask_folder(parent: QWidget | None, settings: QSettings, caption: str) -> Path | None:
    """A folder to export several tunes into, starting at the last one; None when cancelled."""
    name = QFileDialog.getExistingDirectory(parent, caption, str(last_folder(settings)))
    if not name:
        return None
    remember_folder(settings, Path(name))
    return Path(name)


def names_in_folder(
    parent: QWidget | None, folder: Path, names: list[str]
) -> tuple[list[str] | None, list[tuple[str, str]]]:
    """The file names to write into ``folder``, after asking about the ones that exist.

    Returns (names, renamed): ``names`` when nothing is in the way or the user chose to
    replace; free names (``The_Kesh-2.mid``) when they chose to keep the old files, with
    (old, new) for each renamed one; (None, []) when they cancelled.
    """
    existing = [folder / n for n in names if (folder / n).exists()]
    if not existing:
        return names, []
    listed = ", ".join(p.name for p in existing[:MAX_LISTED])
    if len(existing) > MAX_LISTED:
        listed += f" and {len(existing) - MAX_LISTED} more"
    answer = QMessageBox.question(
        parent,
        "Replace files?",
        f"{len(existing)} of the {len(names)} files already exist in {folder}: {listed}.\n\n"
        "Yes: replace them.\nNo: keep them and give the new files free names "
        "(such as Name-2.mid).\nCancel: export nothing.",
        QMessageBox.StandardButton.Yes
        | QMessageBox.StandardButton.No
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    if answer == QMessageBox.StandardButton.Yes:
        return names, []
    if answer != QMessageBox.StandardButton.No:
        return None, []
    free = free_names(folder, names)
    return free, [(old, new) for old, new in zip(names, free, strict=True) if old != new]
