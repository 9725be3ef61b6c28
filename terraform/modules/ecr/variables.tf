variable "prefix" {
  type    = string
  default = "switchyard"
}

variable "services" {
  type    = list(string)
  default = ["gateway", "users", "products", "orders"]
}

variable "keep_images" {
  type    = number
  default = 50
}
