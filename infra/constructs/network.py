"""The VPC: private subnets for model containers and the API function, with NAT or interface endpoints."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.stage import Egress

# What the private subnets must reach when there is no NAT gateway: Fargate pulls images (ECR API,
# ECR registry; the layers come from S3 through the gateway endpoint) and ships logs; the API function
# drives ECS, reads logs and metrics, sends traces, and reads the user pool's signing keys (JWKS).
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Ecs": ec2.InterfaceVpcEndpointAwsService.ECS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
    "CognitoIdp": ec2.InterfaceVpcEndpointAwsService.COGNITO_IDP,
}
MAX_AZS = 2


class Network(Construct):
    """Two AZs of private subnets; gateway endpoints for DynamoDB and S3 are free and always present.

    Attributes: `vpc`, `private_subnets` (a SubnetSelection for the function and the tasks).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        egress: Egress,
        nat_gateways: int,
        flow_log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        if egress is Egress.NAT:
            subnets = [
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                # /20: room for many model tasks (one ENI each) and the function's ENIs.
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
            ]
            private_type = ec2.SubnetType.PRIVATE_WITH_EGRESS
        else:
            subnets = [
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20)
            ]
            private_type = ec2.SubnetType.PRIVATE_ISOLATED
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=MAX_AZS,
            subnet_configuration=subnets,
            # One NAT gateway by default: ~$33/month each; a second only buys AZ-failure tolerance.
            nat_gateways=nat_gateways if egress is Egress.NAT else 0,
            enable_dns_hostnames=True,  # interface endpoints with private DNS need both
            enable_dns_support=True,
            restrict_default_security_group=False,  # avoids a custom resource; nothing uses the default SG
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=private_type)
        self.vpc.add_flow_log(
            "FlowLogs",
            destination=ec2.FlowLogDestination.to_s3(flow_log_bucket, "vpc-flow-logs/"),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        # One group for all interface endpoints; who may reach them (HTTPS from the function and the
        # model containers) is decided by allow_endpoint_access, not by the VPC's whole CIDR.
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if egress is Egress.ENDPOINTS:
            self.endpoint_security_group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self.vpc,
                description="AWS API interface endpoints: HTTPS from the kraken function and containers",
                allow_all_outbound=False,
            )
            for name, service in INTERFACE_ENDPOINTS.items():
                self.interface_endpoints[name] = self.vpc.add_interface_endpoint(
                    name,
                    service=service,
                    subnets=self.private_subnets,
                    private_dns_enabled=True,
                    security_groups=[self.endpoint_security_group],
                    open=False,
                )

    def allow_endpoint_access(self, *clients: ec2.ISecurityGroup) -> None:
        """Let these security groups call the AWS APIs through the interface endpoints (no-op with NAT)."""
        if self.endpoint_security_group is None:
            return
        for client in clients:
            self.endpoint_security_group.add_ingress_rule(
                peer=client, connection=ec2.Port.tcp(443), description="AWS API calls over the endpoints"
            )
