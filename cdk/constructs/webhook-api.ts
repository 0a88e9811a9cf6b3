import { CfnOutput, Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  HttpApi,
  HttpMethod,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** A webhook route: a chat platform or GitLab posts here. */
export interface WebhookRoute {
  /** `/webhooks/<source>`; its URL becomes the stack output `<output>`. */
  path: string;
  /** Stack output name, e.g. `GitLabWebhookUrl`. */
  output: string;
  description: string;
  /** This route's own limit: a flood here is answered 429 here and spends no other route's budget. */
  throttle: ThrottleSettings;
}

/** Per-route limits of the routes that are not webhooks (requests per second, burst). */
export const HEALTH_THROTTLE: ThrottleSettings = { rateLimit: 2, burstLimit: 5 };
export const CONSOLE_THROTTLE: ThrottleSettings = { rateLimit: 10, burstLimit: 20 };

export interface WebhookApiProps {
  apiName: string;
  handler: IFunction;
  webhooks: WebhookRoute[];
  /**
   * Route `/console` too, for people signing in with OpenID Connect (the app checks the session;
   * no API Gateway authorizer). Off unless `console.oidc` is configured: then it is not routed at all.
   */
  console: boolean;
  /** The stage's default limit, for any route without its own. */
  throttle: ThrottleSettings;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
  alarmTopic: ITopic;
}

/**
 * The HTTP surface of design §4 on API Gateway (HTTP API, payload 2.0) in front of the webhook
 * function: one route per webhook source, `GET /healthz`, and nothing else unless the console
 * is enabled. Each route has its own throttle (RouteSettings), so a flood of GitLab events, of
 * health checks or on the console is refused on that route and cannot starve the chat
 * callbacks, which must answer within 3 s. JSON access logs (no bodies, no headers, no query
 * strings) and an alarm on 5xx answers.
 */
export class WebhookApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      apiName: props.apiName,
      description: 'Signoff webhooks and health check',
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            time: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const integration = new HttpLambdaIntegration('Webhook', props.handler);
    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    const routes: HttpRoute[] = [];
    const throttled = (added: HttpRoute[], method: HttpMethod, path: string, throttle: ThrottleSettings) => {
      routes.push(...added);
      routeSettings[`${method} ${path}`] = {
        ThrottlingRateLimit: throttle.rateLimit ?? 0,
        ThrottlingBurstLimit: throttle.burstLimit ?? 0,
      };
    };
    const publicRoute = (path: string, method: HttpMethod, why: string, throttle: ThrottleSettings) => {
      const added = this.api.addRoutes({ path, methods: [method], integration });
      for (const route of added) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${method} ${path} ${why}`,
        });
      }
      throttled(added, method, path, throttle);
    };
    for (const webhook of props.webhooks) {
      publicRoute(
        webhook.path,
        HttpMethod.POST,
        'is called by a third party that cannot sign for AWS: the app verifies its token or signature on the raw body (design §4).',
        webhook.throttle,
      );
      new CfnOutput(scope, webhook.output, {
        value: `${this.api.apiEndpoint}${webhook.path}`,
        description: webhook.description,
      });
    }
    publicRoute(
      '/healthz',
      HttpMethod.GET,
      'is a health check that reveals nothing but {"status":"ok"}.',
      HEALTH_THROTTLE,
    );

    if (props.console) {
      for (const path of ['/console', '/console/{proxy+}']) {
        publicRoute(
          path,
          HttpMethod.ANY,
          'is the web console: people sign in with OpenID Connect and the app checks the session cookie (or a ' +
            'bearer token) on every request; the IAM authorizer cannot be used from a browser.',
          CONSOLE_THROTTLE,
        );
      }
      new CfnOutput(scope, 'ConsoleUrl', {
        value: `${this.api.apiEndpoint}/console`,
        description: 'The web console (OpenID Connect sign-in)',
      });
    }

    // RouteSettings name routes by key: the stage is created after them.
    (this.stage.node.defaultChild as CfnStage).routeSettings = routeSettings;
    for (const route of routes) this.stage.node.addDependency(route);

    const serverErrors = new Alarm(this, 'ServerErrors', {
      alarmName: `${props.apiName}-5xx`,
      alarmDescription:
        'The webhook API answered 5xx in the last 5 minutes (bad input is 4xx: a 5xx is a fault).',
      metric: this.stage.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    serverErrors.addAlarmAction(new SnsAction(props.alarmTopic));
  }

  /** The API's base URL. */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
