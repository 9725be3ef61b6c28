# Three tiers per AZ: public (load balancers, NAT), private (EKS nodes) and
# data (RDS, ElastiCache; no route to the internet at all).
data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  # One subnet per AZ in each tier, at cidrsubnet(var.cidr, newbits, netnum + AZ index):
  # public /24s from .0, private /20s from the second /20, data /24s from .200.
  # The role tags let the AWS load balancer controller find public and
  # internal subnets; data subnets get none.
  subnet_tiers = {
    public  = { newbits = 8, netnum = 0, tags = { "kubernetes.io/role/elb" = "1" } }
    private = { newbits = 4, netnum = 1, tags = { "kubernetes.io/role/internal-elb" = "1" } }
    data    = { newbits = 8, netnum = 200, tags = {} }
  }
  # "public-0" => { tier = "public", index = 0, ... }; keys use the AZ index
  # so they are known at plan time.
  subnets = merge([
    for tier, t in local.subnet_tiers : {
      for i in range(var.az_count) : "${tier}-${i}" => merge(t, { tier = tier, index = i })
    }
  ]...)
  # Per tier, the subnet ids in AZ order.
  subnet_ids = {
    for tier in keys(local.subnet_tiers) : tier => [for i in range(var.az_count) : aws_subnet.this["${tier}-${i}"].id]
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "this" {
  for_each          = local.subnets
  vpc_id            = aws_vpc.this.id
  availability_zone = local.azs[each.value.index]
  cidr_block        = cidrsubnet(var.cidr, each.value.newbits, each.value.netnum + each.value.index)
  tags              = merge({ Name = "${var.name}-${each.value.tier}-${local.azs[each.value.index]}" }, each.value.tags)
}

resource "aws_eip" "nat" {
  count  = var.single_nat_gateway ? 1 : var.az_count
  domain = "vpc"
  tags   = { Name = "${var.name}-nat-${count.index}" }
}

resource "aws_nat_gateway" "this" {
  count         = var.single_nat_gateway ? 1 : var.az_count
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = local.subnet_ids.public[count.index]
  tags          = { Name = "${var.name}-${count.index}" }
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table_association" "public" {
  count          = var.az_count
  subnet_id      = local.subnet_ids.public[count.index]
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  count  = var.az_count
  vpc_id = aws_vpc.this.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
  }
  tags = { Name = "${var.name}-private-${count.index}" }
}

resource "aws_route_table_association" "private" {
  count          = var.az_count
  subnet_id      = local.subnet_ids.private[count.index]
  route_table_id = aws_route_table.private[count.index].id
}

# Data subnets keep the VPC-local route only.
resource "aws_route_table" "data" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-data" }
}

resource "aws_route_table_association" "data" {
  count          = var.az_count
  subnet_id      = local.subnet_ids.data[count.index]
  route_table_id = aws_route_table.data.id
}
