"""PyInstaller hook for music21: the corpus files the workbench reads, and music21's own path.

music21 ships a 67 MB corpus (Palestrina, the Trecento, Beethoven...). The workbench reads only
the folk collections of `workbench.corpus.builtin.COLLECTIONS` (ABC, read as text) and the Bach
chorales (`corpus:bach-chorales`, MusicXML parsed by music21): about 11.5 MB, collected here.
Its test files and scale tables (24 MB more) are never read and stay out.

music21 finds its corpus folder from the path of its own source (`common.getSourceFilePath`:
`inspect.getfile` of a function, two folders up, and a `stream` folder there to be sure). Code
in PyInstaller's archive carries a path relative to the bundle, which would resolve against the
working directory, and the archive's packages are no folders on disk. So `pathTools` is
collected as a source file (compiled at run time: a few milliseconds) and `music21.stream`'s
sources are put beside its archived copy, which makes the folder music21 looks for.
"""

from pathlib import Path

from PyInstaller.utils.hooks import get_package_paths

from workbench.corpus.builtin import COLLECTIONS

#: The chorales `workbench.midi_data.chorales` converts live in music21's `bach` folder.
CORPUS_FOLDERS = (*COLLECTIONS, "bach")

_, package_dir = get_package_paths("music21")
corpus_dir = Path(package_dir) / "corpus"

datas = []
for folder in CORPUS_FOLDERS:
    for path in sorted((corpus_dir / folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            datas.append((str(path), str(Path("music21") / path.parent.relative_to(package_dir))))

module_collection_mode = {
    "music21.common.pathTools": "py",
    "music21.stream": "pyz+py",
}
