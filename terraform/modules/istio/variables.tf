variable "istio_version" {
  description = "Istio Helm chart version."
  type        = string
  default     = "1.29.0"
}
