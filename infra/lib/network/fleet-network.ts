import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of {@link FleetNetwork}. */
export interface FleetNetworkProps {
  /**
   * Use this VPC instead of creating one. It must have private subnets with egress (the
   * workers) and, ideally, isolated subnets (the cache). Default: a new VPC.
   */
  readonly vpc?: ec2.IVpc;
  /** Availability zones of the new VPC. Default 2 (Multi-AZ needs two). */
  readonly maxAzs?: number;
  /** NAT gateways of the new VPC. Default 1; 2 keeps egress through an AZ outage. */
  readonly natGateways?: number;
  /** Retention of the VPC flow log. Default two weeks. */
  readonly flowLogRetention?: logs.RetentionDays;
  /** Removal policy of the flow log group. Default DESTROY. */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The fleet's network: a VPC with public subnets (NAT only), private subnets with egress
 * (the workers: SQS, KMS, Secrets Manager, ECR, Logs and the Reviews origin) and isolated
 * subnets (the cache: nothing in them can reach or be reached from the internet), with
 * flow logs and a closed default security group.
 */
export class FleetNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Where the worker tasks run. */
  public readonly workloadSubnets: ec2.SubnetSelection;
  /** Where the cache nodes live. */
  public readonly dataSubnets: ec2.SubnetSelection;
  /** The flow log group (undefined when an existing VPC was given). */
  public readonly flowLogGroup: logs.LogGroup | undefined;

  constructor(scope: Construct, id: string, props: FleetNetworkProps = {}) {
    super(scope, id);
    if (props.vpc) {
      this.vpc = props.vpc;
      this.workloadSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
      this.dataSubnets =
        props.vpc.isolatedSubnets.length > 0
          ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
          : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
      this.flowLogGroup = undefined;
      return;
    }
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.TWO_WEEKS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: props.natGateways ?? 1,
      // Nothing uses the default group; close it (CDK does it with a small custom resource).
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'workload', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 26 },
      ],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
      // ECR image layers come from S3: keep that traffic off the NAT gateway.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    this.workloadSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    this.dataSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  }
}
