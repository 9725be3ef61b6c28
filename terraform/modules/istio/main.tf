# Istio via the official Helm charts: CRDs (base), the CNI node agent,
# istiod, and the ingress gateway. The CNI agent replaces the istio-init
# container (NET_ADMIN/NET_RAW), which Pod Security "restricted" forbids in
# the switchyard namespace.
#
# Four resources rather than one for_each: they must install in order (CRDs,
# then the CNI agent, then istiod, whose webhook the gateway's injection
# needs), and depends_on cannot order the instances of a single resource.
locals {
  repository = "https://istio-release.storage.googleapis.com/charts"
}

resource "helm_release" "base" {
  name             = "istio-base"
  repository       = local.repository
  chart            = "base"
  version          = var.istio_version
  namespace        = "istio-system"
  create_namespace = true
}

resource "helm_release" "cni" {
  name       = "istio-cni"
  repository = local.repository
  chart      = "cni"
  version    = var.istio_version
  namespace  = "istio-system"
  values     = [file("${path.module}/values/cni.yaml")]
  depends_on = [helm_release.base]
}

resource "helm_release" "istiod" {
  name       = "istiod"
  repository = local.repository
  chart      = "istiod"
  version    = var.istio_version
  namespace  = "istio-system"
  values     = [file("${path.module}/values/istiod.yaml")]
  depends_on = [helm_release.cni]
}

# The release name becomes the service account, so the ingress principal is
# cluster.local/ns/istio-ingress/sa/istio-ingressgateway (mesh/intended-access.json).
resource "helm_release" "ingress" {
  name             = "istio-ingressgateway"
  repository       = local.repository
  chart            = "gateway"
  version          = var.istio_version
  namespace        = "istio-ingress"
  create_namespace = true
  values           = [file("${path.module}/values/ingress.yaml")]
  depends_on       = [helm_release.istiod]
}
