"""The JVM tools of tests/java (a plain Kafka + Avro consumer from Maven Central), built once per test session.

Maven resolves into ~/.m2 the first time (online), offline after that; `target/` is rebuilt only when the
sources or the pom changed, so a warm session starts the tools in a second or two."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schemas import schema_dir

_MAVEN_GOALS = ["compile", "dependency:copy-dependencies", "-DincludeScope=runtime",
                "-DoutputDirectory=target/lib"]


def java_project() -> Path:
    return schema_dir().parent / "tests" / "java"


def _newest_source(project: Path) -> float:
    return max(p.stat().st_mtime for p in [project / "pom.xml", *(project / "src").rglob("*.java")])


@dataclass(frozen=True)
class JavaTools:
    project: Path

    @property
    def classpath(self) -> str:
        return f"{self.project / 'target' / 'classes'}{os.pathsep}{self.project / 'target' / 'lib' / '*'}"

    def run(self, main: str, *args: str, timeout_s: float = 180.0) -> subprocess.CompletedProcess[str]:
        command = ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", self.classpath,
                   f"io.cxpulse.xlang.{main}", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)

    def read_topics(self, bootstrap: str, expected: dict[str, tuple[str, int]], wire_format: str = "single-object",
                    registry: str | None = None, timeout_s: int = 60) -> tuple[subprocess.CompletedProcess[str],
                                                                                  list[dict[str, Any]]]:
        """Runs ReadTopics on {topic: (reader record name, messages to wait for)}; returns the process and its
        lines (topic, partition, offset, key, schema, value or error)."""
        args = ["--bootstrap", bootstrap, "--schemas", str(schema_dir()), "--format", wire_format,
                "--timeout-s", str(timeout_s)]
        if registry:
            args += ["--registry", registry]
        for topic, (schema, count) in expected.items():
            args += ["--topic", f"{topic}={schema}:{count}"]
        result = self.run("ReadTopics", *args, timeout_s=timeout_s + 60)
        return result, [json.loads(line) for line in result.stdout.splitlines()]


def build_java_tools(project: Path | None = None) -> JavaTools:
    project = project or java_project()
    stamp = project / "target" / ".built"
    if stamp.is_file() and stamp.stat().st_mtime >= _newest_source(project):
        return JavaTools(project)
    # Offline first (quick, and no network when ~/.m2 has it all); online once on a fresh machine.
    for offline in (["-o"], []):
        result = subprocess.run(["mvn", "-q", "-B", *offline, "-f", str(project / "pom.xml"), *_MAVEN_GOALS],
                                cwd=project, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode == 0:
            stamp.touch()
            return JavaTools(project)
    raise RuntimeError(f"building {project} with Maven failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
