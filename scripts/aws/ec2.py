"""EC2: the S3 gateway endpoint that lets Glue jobs in a VPC reach S3 without the internet."""

from __future__ import annotations

from botocore.exceptions import ClientError

from scripts.aws.clients import CREATED_BY_TAG, error_code
from scripts.aws.errors import VpcNotFoundError


def s3_service_name(region: str) -> str:
    return f"com.amazonaws.{region}.s3"


def find_s3_endpoint(ec2, vpc_id: str, region: str) -> dict | None:
    endpoints = ec2.describe_vpc_endpoints(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]},
        {"Name": "service-name", "Values": [s3_service_name(region)]},
        {"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
    ])["VpcEndpoints"]
    live = [e for e in endpoints if e.get("State", "available").lower() not in ("deleted",
                                                                                 "deleting")]
    return live[0] if live else None


def check_network(ec2, vpc_id: str, route_table_id: str) -> None:
    try:
        ec2.describe_vpcs(VpcIds=[vpc_id])
        ec2.describe_route_tables(RouteTableIds=[route_table_id])
    except ClientError as error:
        if error_code(error).startswith(("InvalidVpcID", "InvalidRouteTableID")):
            raise VpcNotFoundError(f"{error.response['Error']['Message']}: check --vpc-id and "
                                   "--route-table-id (aws ec2 describe-route-tables)") from error
        raise


def ensure_s3_endpoint(ec2, vpc_id: str, route_table_id: str, region: str) -> tuple[str, bool]:
    """An S3 gateway endpoint in the VPC with the route table attached; (id, created)."""
    check_network(ec2, vpc_id, route_table_id)
    endpoint = find_s3_endpoint(ec2, vpc_id, region)
    if endpoint is None:
        created = ec2.create_vpc_endpoint(
            VpcEndpointType="Gateway", VpcId=vpc_id, ServiceName=s3_service_name(region),
            RouteTableIds=[route_table_id],
            TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [CREATED_BY_TAG]}])
        return created["VpcEndpoint"]["VpcEndpointId"], True
    if route_table_id not in endpoint.get("RouteTableIds", []):
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"],
                                AddRouteTableIds=[route_table_id])
    return endpoint["VpcEndpointId"], False


def delete_created_endpoint(ec2, vpc_id: str, region: str) -> str | None:
    """Delete the VPC's S3 endpoint if deploy created it (tagged); returns its id."""
    endpoint = find_s3_endpoint(ec2, vpc_id, region)
    if endpoint is None or CREATED_BY_TAG not in endpoint.get("Tags", []):
        return None
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    return endpoint["VpcEndpointId"]
