"""Labels and names every launcher object carries (kept free of the kubernetes import)."""

LABEL_JOB = "mlplat.io/job"
LABEL_ROLE = "mlplat.io/role"
LABEL_INDEX = "mlplat.io/index"
LABEL_MANAGED = "app.kubernetes.io/managed-by"
ANNOTATION_DEADLINE = "mlplat.io/deadline"
SPEC_KEY = "spec.json"
MAIN_CONTAINER = "main"
