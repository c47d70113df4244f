"""End-to-end tests of `securityai train` and `securityai evaluate` on small CSV files."""

import csv
import gzip
import os
import random
import shutil
import subprocess
import tempfile
import unittest

BIN = os.environ.get("SECURITYAI_BIN", "build/securityai")


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


class MlCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sai-ml-")
        rng = random.Random(5)
        # Two numeric features and a protocol; class "bad" when x > 0.7 on tcp.
        cls.train = os.path.join(cls.dir, "train.csv")
        cls.test = os.path.join(cls.dir, "test.csv.gz")
        rows = []
        for i in range(600):
            x, y = rng.random(), rng.random()
            proto = rng.choice(["tcp", "udp"])
            label = "bad" if x > 0.7 and proto == "tcp" else "good"
            rows.append([f"{x:.4f}", f"{y:.4f}", proto, label, str(i)])
        with open(cls.train, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["x", "y", "proto", "label", "id"])
            w.writerows(rows[:400])
        with gzip.open(cls.test, "wt", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "proto", "y", "x", "label"])  # other column order
            for r in rows[400:]:
                w.writerow([r[4], "icmp" if r[4] == "599" else r[2], r[1], r[0], r[3]])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_random_forest_train_and_evaluate(self):
        model = self.path("rf.saim")
        code, out, err = run("train", "--model", "random_forest", "--data", self.train, "--label-column", "label",
                             "--ignore-column", "id", "--param", "n_estimators=30", "--seed", "3", "--out", model)
        self.assertEqual(code, 0, err)
        self.assertIn('"fit_seconds"', out.splitlines()[-1])
        pred = self.path("rf.csv")
        code, out, err = run("evaluate", "--model", model, "--data", self.test, "--predictions", pred)
        self.assertEqual(code, 0, err)
        self.assertIn("accuracy:", out)
        with open(pred) as f:
            got = list(csv.DictReader(f))
        self.assertEqual(len(got), 200)
        self.assertEqual(set(got[0]), {"class", "p_bad", "p_good"})
        with gzip.open(self.test, "rt") as f:
            truth = [r["label"] for r in csv.DictReader(f)]
        accuracy = sum(g["class"] == t for g, t in zip(got, truth)) / len(truth)
        self.assertGreater(accuracy, 0.9)

    def test_isolation_forest_scores_every_row(self):
        model = self.path("if.saim")
        code, _, err = run("train", "--model", "isolation_forest", "--data", self.train, "--label-column", "label",
                           "--ignore-column", "id", "--out", model)
        self.assertEqual(code, 0, err)
        pred = self.path("if.csv")
        code, out, err = run("evaluate", "--model", model, "--data", self.test, "--label-column", "id",
                             "--predictions", pred)
        self.assertEqual(code, 0, err)
        with open(pred) as f:
            scores = [float(r["score"]) for r in csv.DictReader(f)]
        self.assertEqual(len(scores), 200)
        self.assertTrue(all(0 < s <= 1 for s in scores))

    def test_bad_input_is_a_clear_error(self):
        single = self.path("single.csv")
        with open(single, "w") as f:
            f.write("x,label\n1,a\n2,a\n")
        code, _, err = run("train", "--model", "random_forest", "--data", single, "--label-column", "label",
                           "--out", self.path("x.saim"))
        self.assertEqual(code, 1)
        self.assertIn("single class", err)

        empty = self.path("empty.csv")
        with open(empty, "w") as f:
            f.write("x,y\n")
        code, _, err = run("train", "--model", "isolation_forest", "--data", empty, "--out", self.path("x.saim"))
        self.assertEqual(code, 1)
        self.assertIn("no data rows", err)

        model = self.path("if2.saim")
        self.assertEqual(run("train", "--model", "isolation_forest", "--data", self.train, "--label-column", "label",
                             "--ignore-column", "id", "--out", model)[0], 0)
        missing = self.path("missing.csv")
        with open(missing, "w") as f:
            f.write("x,proto\n0.5,tcp\n")
        code, _, err = run("evaluate", "--model", model, "--data", missing, "--predictions", self.path("p.csv"))
        self.assertEqual(code, 1)
        self.assertIn("'y'", err)

        text = self.path("text.csv")
        with open(text, "w") as f:
            f.write("x,y,proto\n0.5,abc,tcp\n")
        code, _, err = run("evaluate", "--model", model, "--data", text, "--predictions", self.path("p.csv"))
        self.assertEqual(code, 1)
        self.assertIn("not a number", err)

        with open(model, "rb") as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 0xFF
        corrupt = self.path("corrupt.saim")
        with open(corrupt, "wb") as f:
            f.write(data)
        code, _, err = run("evaluate", "--model", corrupt, "--data", self.test, "--predictions", self.path("p.csv"))
        self.assertEqual(code, 1)
        self.assertIn("checksum", err)

        code, _, err = run("train", "--model", "isolation_forest", "--data", self.train, "--param", "max_samples=-3",
                           "--out", self.path("x.saim"))
        self.assertEqual(code, 2)
        self.assertIn("max_samples", err)


if __name__ == "__main__":
    unittest.main()
