# prod's own Terraform state (how to use it: terraform/platform/main.tf, docs/deploy.md).
key          = "switchyard/prod.tfstate"
region       = "eu-west-1"
use_lockfile = true
