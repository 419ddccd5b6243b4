"""The official Python client against ferrokube: list, create, read, watch, typed errors."""
import sys
from kubernetes import client, config, watch
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
print([n.metadata.name for n in v1.list_namespace().items])
cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="pycm", labels={"a": "b"}), data={"k": "v"})
try:
    v1.delete_namespaced_config_map("pycm", "default")
except Exception:
    pass
created = v1.create_namespaced_config_map("default", cm)
print("created", created.metadata.name, created.metadata.resource_version)
got = v1.read_namespaced_config_map("pycm", "default")
print("got", got.data)
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_config_map, "default", label_selector="a=b", timeout_seconds=2):
    print("event", ev["type"], ev["object"].metadata.name)
    break
apps = client.AppsV1Api()
dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "pyd"}, "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
try:
    apps.delete_namespaced_deployment("pyd", "default")
except Exception:
    pass
d = apps.create_namespaced_deployment("default", dep)
print("deployment", d.metadata.name, d.spec.replicas, d.spec.strategy.type)
try:
    v1.read_namespaced_pod("nope", "default")
except client.exceptions.ApiException as e:
    print("error", e.status, e.reason)
v1.delete_namespaced_config_map("pycm", "default")
assert created.metadata.resource_version.isdigit()
assert got.data == {"k": "v"}
print("ok")
