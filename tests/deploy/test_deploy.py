"""The deployment artifacts in deploy/ are valid: every YAML file parses, the Kubernetes
manifests pass the API schemas (kubernetes-models from npm), docker-compose accepts the
compose file and refuses it without its secrets, both nginx configurations pass
`nginx -t`, systemd accepts the unit without a warning, and the runtime stage of the
Dockerfile installs a Debian package for every shared library the built binary needs."""

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
NODE_MODULES = os.path.join(ROOT, "web", "node_modules")
BIN = os.environ.get("SECURITYAI_BIN", os.path.join(ROOT, "build", "securityai"))


def run(cmd, env=None, cwd=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd, timeout=120)


def dockerfile_stages():
    """The Dockerfile's stages (text after each FROM), continuation lines joined."""
    with open(os.path.join(DEPLOY, "Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    return re.split(r"^FROM ", text, flags=re.M)[1:]


def nginx_exe():
    return shutil.which("nginx") or "/usr/sbin/nginx"


class YamlTest(unittest.TestCase):
    def test_every_yaml_file_parses(self):
        files = glob.glob(os.path.join(DEPLOY, "**", "*.y*ml"), recursive=True)
        self.assertGreaterEqual(len(files), 10)
        for f in files:
            with open(f) as fh:
                docs = [d for d in yaml.safe_load_all(fh) if d is not None]
            self.assertTrue(docs, f)


class KubernetesTest(unittest.TestCase):
    def manifests(self):
        out = []
        for f in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
            if os.path.basename(f) == "kustomization.yaml":
                continue
            with open(f) as fh:
                out += [{"file": os.path.relpath(f, ROOT), "doc": d} for d in yaml.safe_load_all(fh) if d]
        return out

    def validate(self, docs):
        env = dict(os.environ, NODE_PATH=NODE_MODULES)
        return subprocess.run(["node", os.path.join(os.path.dirname(__file__), "validate_k8s.js")],
                              input=json.dumps(docs).encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=env, timeout=120)

    def test_manifests_pass_the_api_schemas(self):
        docs = self.manifests()
        kinds = {d["doc"]["kind"] for d in docs}
        for kind in ("Namespace", "ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler",
                     "PodDisruptionBudget"):
            self.assertIn(kind, kinds)
        r = self.validate(docs)
        self.assertEqual(r.returncode, 0, r.stdout.decode())

    def test_the_validator_rejects_a_broken_manifest(self):
        deployment = next(d for d in self.manifests() if d["doc"]["kind"] == "Deployment")
        deployment["doc"]["spec"]["replicas"] = "two"
        r = self.validate([deployment])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("replicas", r.stdout.decode())

    def test_deployment_is_hardened_and_probed(self):
        dep = next(d["doc"] for d in self.manifests() if d["doc"]["kind"] == "Deployment")
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/health")
        self.assertIn("livenessProbe", c)
        self.assertIn("limits", c["resources"])
        labels = dep["spec"]["template"]["metadata"]["labels"]
        for doc in (d["doc"] for d in self.manifests()):
            selector = doc.get("spec", {}).get("selector")
            if doc["kind"] in ("Service",):
                self.assertTrue(set(selector.items()) <= set(labels.items()), doc["kind"])
            if doc["kind"] in ("PodDisruptionBudget",):
                self.assertTrue(set(selector["matchLabels"].items()) <= set(labels.items()), doc["kind"])

    def test_kustomization_lists_every_manifest_but_the_secret_example(self):
        with open(os.path.join(K8S, "kustomization.yaml")) as f:
            listed = set(yaml.safe_load(f)["resources"])
        present = {os.path.basename(f) for f in glob.glob(os.path.join(K8S, "*.yaml"))}
        self.assertEqual(listed, present - {"kustomization.yaml", "secret.example.yaml"})


class ComposeTest(unittest.TestCase):
    def compose(self, env_extra):
        env = {k: v for k, v in os.environ.items()
               if k not in ("SECRET_KEY", "POSTGRES_PASSWORD", "SECURITYAI_ADMIN_PASSWORD")}
        env.update(env_extra)
        return run(["docker-compose", "-f", os.path.join(DEPLOY, "docker-compose.yml"), "config"], env=env,
                   cwd=DEPLOY)

    @unittest.skipUnless(shutil.which("docker-compose"), "docker-compose not installed")
    def test_compose_file_is_valid_and_has_the_stack(self):
        r = self.compose({"SECRET_KEY": "k" * 64, "POSTGRES_PASSWORD": "pw", "SECURITYAI_ADMIN_PASSWORD": "admin"})
        self.assertEqual(r.returncode, 0, r.stdout.decode())
        config = yaml.safe_load(r.stdout)
        self.assertEqual(set(config["services"]),
                         {"backend-1", "backend-2", "nginx", "postgres", "redis", "kafka", "influxdb"})
        env = config["services"]["backend-1"]["environment"]
        self.assertEqual(env["POSTGRES_URL"], "postgresql://securityai:pw@postgres:5432/securityai")
        self.assertEqual(env["REDIS_URL"], "redis://redis:6379/0")
        self.assertEqual(env["KAFKA_BOOTSTRAP_SERVERS"], "kafka:9092")

    @unittest.skipUnless(shutil.which("docker-compose"), "docker-compose not installed")
    def test_compose_refuses_to_start_without_secrets(self):
        r = self.compose({"POSTGRES_PASSWORD": "pw", "SECURITYAI_ADMIN_PASSWORD": "admin"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("SECRET_KEY", r.stdout.decode())


class NginxTest(unittest.TestCase):
    def check(self, text):
        d = tempfile.mkdtemp(prefix="sai-nginx-t-")
        try:
            text = text.replace("/var/log/nginx/", d + "/").replace("/var/run/", d + "/").replace("/run/", d + "/")
            conf = os.path.join(d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(text)
            return run([nginx_exe(), "-t", "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")])
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_host_config_passes_nginx_t(self):
        with open(os.path.join(DEPLOY, "nginx.conf")) as f:
            r = self.check(f.read())
        self.assertEqual(r.returncode, 0, r.stdout.decode())
        self.assertIn(b"test is successful", r.stdout)

    def test_compose_config_passes_nginx_t(self):
        with open(os.path.join(DEPLOY, "docker", "nginx.conf")) as f:
            text = f.read()
        # The compose service names resolve only inside Docker's network.
        text = re.sub(r"server backend-\d+:8000", "server 127.0.0.1:8000", text)
        r = self.check(text)
        self.assertEqual(r.returncode, 0, r.stdout.decode())

    def test_nginx_t_fails_on_a_broken_config(self):
        r = self.check("events {}\nhttp { server { listen 80; location / { proxy_pass; } } }\n")
        self.assertNotEqual(r.returncode, 0)

    def test_websocket_upgrade_is_proxied(self):
        for path in (os.path.join(DEPLOY, "nginx.conf"), os.path.join(DEPLOY, "docker", "nginx.conf")):
            with open(path) as f:
                text = f.read()
            self.assertIn("proxy_set_header Upgrade $http_upgrade", text)
            self.assertIn("proxy_http_version 1.1", text)


class StartsWithTheShippedEnvironmentTest(unittest.TestCase):
    """The binary starts with the environment the image and the manifests give it (plus the
    secrets an operator adds): a production setting that refuses to start is a broken image."""

    def serve(self, env):
        d = tempfile.mkdtemp(prefix="sai-deploy-env-")
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        full.update(env)
        full.update({"DATA_DIR": os.path.join(d, "data"), "PORT": "0", "SYSLOG_PORT": "0",
                     "SECRET_KEY": "k" * 64, "SECURITYAI_ADMIN_PASSWORD": "a long admin password 1"})
        for k in ("POSTGRES_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "INFLUXDB_URL"):
            full.pop(k, None)  # the engines are not part of this check
        proc = subprocess.Popen([BIN, "serve"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full)
        try:
            deadline = time.time() + 30
            for raw in proc.stdout:
                if b'"msg":"listening"' in raw:
                    return True, ""
                if time.time() > deadline:
                    break
            return False, proc.stdout.read().decode(errors="replace") if proc.poll() is not None else "timeout"
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(15)
            proc.stdout.close()
            shutil.rmtree(d, ignore_errors=True)

    @unittest.skipUnless(os.path.exists(BIN), "needs the built binary")
    def test_dockerfile_environment(self):
        runtime = dockerfile_stages()[1]
        env = {}
        for line in re.findall(r"(?m)^ENV (.*)$", runtime):
            env.update(re.findall(r"(\w+)=(\S+)", line))
        self.assertEqual(env["ENVIRONMENT"], "production")
        ok, why = self.serve(env)
        self.assertTrue(ok, why)

    @unittest.skipUnless(os.path.exists(BIN), "needs the built binary")
    def test_kubernetes_configmap_environment(self):
        with open(os.path.join(K8S, "configmap.yaml")) as f:
            env = {k: str(v) for k, v in yaml.safe_load(f)["data"].items()}
        ok, why = self.serve(env)
        self.assertTrue(ok, why)


class SystemdTest(unittest.TestCase):
    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
    def test_unit_verifies_without_warnings(self):
        with open(os.path.join(DEPLOY, "securityai.service")) as f:
            text = f.read()
        self.assertIn("ExecStart=/usr/bin/securityai serve", text)
        d = tempfile.mkdtemp(prefix="sai-unit-")
        try:
            unit = os.path.join(d, "securityai.service")
            with open(unit, "w") as f:  # verify checks that ExecStart exists
                f.write(text.replace("/usr/bin/securityai", "/bin/true"))
            r = run(["systemd-analyze", "verify", unit])
            self.assertEqual(r.returncode, 0, r.stdout.decode())
            self.assertNotIn(unit.encode(), r.stdout, r.stdout.decode())
        finally:
            shutil.rmtree(d, ignore_errors=True)


class DockerfileTest(unittest.TestCase):
    def stages(self):
        return dockerfile_stages()

    def test_multi_stage_non_root_with_health_check(self):
        stages = self.stages()
        self.assertEqual(len(stages), 2)
        self.assertTrue(stages[0].startswith("debian:12"))
        runtime = stages[1]
        self.assertTrue(runtime.startswith("debian:12"))
        self.assertRegex(runtime, r"(?m)^USER 10001")
        self.assertRegex(runtime, r"(?m)^HEALTHCHECK .*curl -fsS .*/health")
        self.assertIn("install-deps.sh --build-only", stages[0])

    @unittest.skipUnless(os.path.exists(BIN) and shutil.which("ldd") and shutil.which("dpkg"),
                         "needs the built binary, ldd and dpkg")
    def test_runtime_stage_installs_every_shared_library_the_binary_needs(self):
        runtime = self.stages()[1]
        m = re.search(r"apt-get install -y --no-install-recommends (.*?)&&", runtime, re.S)
        self.assertIsNotNone(m)
        listed = set(m.group(1).split())
        # The packages that provide each library the binary loads (the C/C++ runtime
        # comes with the base image).
        base = {"libc6", "libstdc++6", "libgcc-s1"}
        libs = re.findall(r"=> (/\S+)", run(["ldd", BIN]).stdout.decode())
        direct = set()
        readelf = run(["readelf", "-d", BIN]).stdout.decode()
        needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", readelf))
        for lib in libs:
            if os.path.basename(lib) in needed:
                direct.add(lib)
        self.assertTrue(direct)
        missing = []
        for lib in sorted(direct):
            r = run(["dpkg", "-S", os.path.realpath(lib)])
            if r.returncode != 0:
                r = run(["dpkg", "-S", lib])
            pkg = r.stdout.decode().split(":")[0].strip()
            if pkg not in listed and pkg not in base:
                missing.append("%s (%s)" % (lib, pkg))
        self.assertEqual(missing, [], "runtime stage lacks packages for: %s" % missing)


if __name__ == "__main__":
    unittest.main()
