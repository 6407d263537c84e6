#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ from the repository's own examples and
fixtures (run from anywhere: python3 fuzz/seeds.py). The corpora are committed; rerun this
after changing it. Inputs follow the targets' formats (see fuzz/src/targets.rs)."""
import io, json, os, shutil, tarfile, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
SPARK = ROOT / "tests" / "fixtures" / "spark"
UPSTREAM = ROOT / "tests" / "fixtures" / "mleap-upstream"
MAX_FILE = 16 << 10  # files larger than this are left out of file lists (tree ensembles' data)


def file_list(files):
    """The targets' file-list format: '=== path' then the content, files joined by a newline."""
    return b"\n".join(b"=== " + name.encode() + b"\n" + content for name, content in files)


def tree(dir):
    out = []
    for p in sorted(dir.rglob("*")):
        if p.is_file() and not p.name.endswith(".crc") and p.name != "_SUCCESS":
            if p.stat().st_size <= MAX_FILE:
                out.append((p.relative_to(dir).as_posix(), p.read_bytes()))
    return out


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def selector(fmt, model, accept):
    """The body target's first byte: format (csv 0, json 1, jsonlines 2), model (car 0,
    demo-all-types 1, demo-vector-out 2), accept (csv 0, jsonlines 1, jsonlines;data=text 2)."""
    return bytes([fmt + 3 * model + 9 * accept])


def body_seeds():
    car_rows = (ROOT / "examples/car-evaluation/input.csv").read_text().splitlines()[1:8]
    car_schema = json.loads((ROOT / "examples/car-evaluation/schema.json").read_text())
    seeds = {
        "car-csv-one": (0, 0, 0, car_rows[0]),
        "car-csv-many": (0, 0, 1, "\n".join(car_rows) + "\n"),
        "car-csv-quoted-crlf": (0, 0, 2, '"low","med",4,2,"big","high"\r\nvhigh,vhigh,2,2,small,low\r\n'),
        "car-csv-arity": (0, 0, 0, "low,med,4\n"),
        "car-json-one": (1, 0, 0, json.dumps({"data": car_rows[0].split(",")})),
        "car-json-many": (1, 0, 1, json.dumps({"data": [r.split(",") for r in car_rows]})),
        "car-json-schema": (1, 0, 2, json.dumps({"schema": car_schema, "data": car_rows[1].split(",")})),
        "car-jsonl": (2, 0, 1, "\n".join(json.dumps({"data": r.split(",")}) for r in car_rows)),
        "car-jsonl-schema": (2, 0, 0, json.dumps({"schema": car_schema, "data": car_rows[0].split(",")})
                             + "\n" + json.dumps({"data": car_rows[2].split(",")})),
        "all-csv": (0, 1, 0, '1.0,2.0,3.0,true,1,2,3,4,1.5,hello,"[1.0,2.0]","[1,2]","[""a"",""b""]"\n'
                             ',,,,,,,,,,,,\n'
                             '0.5,-1,1e3,false,-128,32767,-2147483648,9223372036854775807,NaN,"x,y","(4,[1,3],[0.5,2.0])",[],[]'),
        "all-json": (1, 1, 1, json.dumps({"data": [1.0, 2.0, 3.0, True, 1, 2, 3, 4, 1.5, "s",
                                                   [1.0, 2.0], [1, 2], ["a", "b"]]})),
        "all-json-nulls": (1, 1, 0, json.dumps({"data": [None] * 13})),
        "all-json-strings": (1, 1, 2, json.dumps({"data": ["1", "2", "3", "true", "1", "2", "3", "4",
                                                            "1.5", "s", "[1,2]", "[1]", "[\"a\"]"]})),
        "all-jsonl": (2, 1, 1, json.dumps({"data": [0.1, 0.2, 0.3, False, 0, 0, 0, 0, 0.0, "",
                                                    "(3,[0],[1.0])", [], []]}) + "\n\n"
                      + json.dumps({"data": [[1, 2, 3, True, 1, 1, 1, 1, 1, "a", [1], [1], ["a"]]]})),
        "vec-csv": (0, 2, 0, "22.1,98.2,1.0\n0,0,0\n"),
        "vec-csv-text": (0, 2, 2, "1e-3,-5,7.25"),
        "vec-jsonl": (2, 2, 1, '{"data":[22.1,98.2,1.0]}\n{"data":[[1,2,3],[4,5,6]]}'),
        "echo-vector": (1, 2, 1, json.dumps({"schema": {"input": [{"name": "v", "type": "double", "struct": "vector"}],
                                                        "output": {"name": "v", "type": "double", "struct": "vector"}},
                                             "data": ["(5,[1,4],[1.0,2.0])"]})),
        "echo-array": (2, 1, 2, json.dumps({"schema": {"input": [{"name": "a", "type": "int", "struct": "array"},
                                                                 {"name": "w", "type": "string", "struct": "array"}],
                                                       "output": {"name": "w", "type": "string", "struct": "array"}},
                                            "data": [[1, 2], ["this", "is", "spark"]]})),
        "echo-int": (0, 1, 0, "1,2.0"),
        "http-test-schema": (1, 1, 0, '{"schema":{"input":[{"name":"test_name_1","type":"int"},{"name":"test_name_2",'
                                      '"type":"double"}],"output":{"name":"test_name_1","type":"int"}},"data":[1,2.0]}'),
        "bad-json": (1, 0, 0, '{"data":[1,"C",2.0],"extra":1}'),
        "bad-empty": (0, 0, 0, " \n"),
    }
    for name, (fmt, model, accept, body) in seeds.items():
        write("body", name, selector(fmt, model, accept) + body.encode())


def vector_seeds():
    for i, v in enumerate(["[1.0,2.0,3.0]", "[]", " [ -0.0 , 1e308, NaN ] ", "(5,[1,3],[0.5,-2.0])",
                           "(0,[],[])", "(3, [0, 1, 2], [1, 2, 3])", "[1,2", "(2,[1,0],[1,2])",
                           "[Infinity,-Infinity,4.9e-324]", "(10,[9],[1e-300])"]):
        write("vector", f"v{i:02}", v)


def schema_seeds():
    write("schema", "car-evaluation", (ROOT / "examples/car-evaluation/schema.json").read_bytes())
    write("schema", "demo", json.dumps({"input": [{"name": "demo:a", "type": "double"},
                                                  {"name": "demo:c", "type": "double"},
                                                  {"name": "demo:d", "type": "double"}],
                                        "output": {"name": "demo:prediction", "type": "double"}}))
    write("schema", "demo-vector", json.dumps({"input": [{"name": "demo:a", "type": "double", "struct": "basic"},
                                                         {"name": "demo:c", "type": "double"},
                                                         {"name": "demo:d", "type": "double"}],
                                               "output": {"name": "unscaled_continuous_features",
                                                          "type": "double", "struct": "vector"}}))
    write("schema", "echo-every-type", json.dumps({"input": [{"name": t, "type": t} for t in
                                                             ["boolean", "byte", "short", "int", "long", "float", "double", "string"]]
                                                  + [{"name": "v", "type": "float", "struct": "vector"},
                                                     {"name": "a", "type": "string", "struct": "array"}],
                                                  "output": {"name": "a", "type": "string", "struct": "array"}}))
    write("schema", "bad-unknown-output", '{"input":[{"name":"x","type":"int"}],"output":{"name":"nope","type":"int"}}')


def mleap_seeds():
    demo = (UPSTREAM / "demo.zip").read_bytes()
    write("mleap", "demo.zip", demo)
    with zipfile.ZipFile(io.BytesIO(demo)) as z:
        demo_files = [(n, z.read(n)) for n in sorted(z.namelist()) if not n.endswith("/")]
    write("mleap", "demo.files", file_list(demo_files))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for n, c in demo_files:
            info = tarfile.TarInfo("model/" + n)
            info.size = len(c)
            info.mtime = 0
            t.addfile(info, io.BytesIO(c))
    write("mleap", "demo.tar.gz", buf.getvalue())
    for z in ["one_hot_encoder_pipeline.zip", "min_max_scaler_tf.zip", "airbnb.model.lr.zip", "sff.zip"]:
        with zipfile.ZipFile(UPSTREAM / z) as zz:
            files = [(n, zz.read(n)) for n in sorted(zz.namelist()) if not n.endswith("/")]
        write("mleap", z.replace(".zip", ".files"), file_list(files))
    write("mleap", "sagemaker-empty-pipeline.files", file_list(tree(UPSTREAM / "sagemaker-empty-pipeline")))
    for case in sorted(SPARK.iterdir()):
        if (case / "bundle").is_dir():
            files = tree(case / "bundle")
            if sum(len(c) for _, c in files) <= 64 << 10:
                write("mleap", f"{case.name}.files", file_list(files))


def spark_seeds():
    for case in sorted(SPARK.iterdir()):
        model = case / "model"
        if not model.is_dir():
            continue
        files = tree(model)
        # part files renamed short: the reader takes any metadata/part-*
        files = [(n.split("/part-")[0] + "/part-00000" if "/metadata/part-" in n or n.startswith("metadata/part-") else n, c)
                 for n, c in files]
        if sum(len(c) for _, c in files) <= 48 << 10:
            write("spark", f"{case.name}.files", file_list(files))
    car = ROOT / "examples/car-evaluation/model"
    for meta in sorted(car.rglob("metadata/part-*")):
        stage = meta.parent.parent.name if meta.parent.parent != car else "pipeline"
        write("spark", f"car-{stage}.json", meta.read_bytes())


if __name__ == "__main__":
    for t in ["body", "vector", "schema", "mleap", "spark"]:
        shutil.rmtree(OUT / t, ignore_errors=True)
    body_seeds(); vector_seeds(); schema_seeds(); mleap_seeds(); spark_seeds()
    for t in sorted(OUT.iterdir()):
        files = list(t.iterdir())
        print(f"{t.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
