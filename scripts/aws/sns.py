"""SNS: the lake's alerts topic, which EventBridge publishes a failed run to, and its email
subscriptions (deploy --notify).

The topic is tagged like everything else deploy creates outside the bucket; deploy changes, and
destroy deletes, no topic of this name without the tag. Deleting the topic deletes its
subscriptions with it (SNS's DeleteTopic).

Not encrypted with a KMS key: EventBridge cannot publish to a topic under the AWS managed key
aws/sns (only a customer managed key whose key policy lets EventBridge use it), and a message
holds a job's name, run id, state and Glue's error message, no data of the lake.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from scripts.aws.clients import CREATED_BY_TAG, error_code
from scripts.aws.errors import ForeignResourceError

EVENTS_PRINCIPAL = "events.amazonaws.com"
# The one statement of the topic's policy that is deploy's; other statements are kept.
EVENTS_PUBLISH_SID = "EventBridgePublishesAlerts"
EMAIL_PROTOCOL = "email"
# How ListSubscriptionsByTopic shows a subscription whose address has not confirmed yet.
PENDING_CONFIRMATION = "PendingConfirmation"
# What SNS answers for a topic that is not there: GetTopicAttributes "NotFound",
# ListTagsForResource "ResourceNotFound".
MISSING_TOPIC = ("NotFound", "ResourceNotFound")


def alerts_topic_name(database: str) -> str:
    """The lake's alerts topic, one per lake database (named as its Glue workflow)."""
    return f"{database}-lakehouse-alerts"


def topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def events_publish_statement(topic: str) -> dict:
    """EventBridge may publish to the topic: the statement the EventBridge User Guide gives
    ("Using resource-based policies for Amazon EventBridge", Amazon SNS permissions). Without a
    Condition: that page says "You can't use Condition blocks in Amazon SNS topic policies for
    EventBridge", so an aws:SourceArn naming the rule is not there (docs/deploy.md, "Alerts")."""
    return {"Sid": EVENTS_PUBLISH_SID, "Effect": "Allow",
            "Principal": {"Service": EVENTS_PRINCIPAL}, "Action": "sns:Publish",
            "Resource": topic}


def with_events_publish(existing: dict | None, topic: str) -> dict:
    """The topic's policy with deploy's statement in it; other statements are kept. A topic
    deploy creates gets this statement alone, not SNS's default statement (which lets every
    principal of the account act on the topic): IAM grants the account's own users."""
    ours = events_publish_statement(topic)
    policy = existing or {"Version": "2012-10-17", "Statement": []}
    others = [s for s in policy.get("Statement", []) if s.get("Sid") != EVENTS_PUBLISH_SID]
    return {**policy, "Statement": [*others, ours]}


def topic_tags(sns, topic: str) -> list[dict] | None:
    """The topic's tags, or None where there is no topic."""
    try:
        return sns.list_tags_for_resource(ResourceArn=topic)["Tags"]
    except ClientError as error:
        if error_code(error) in MISSING_TOPIC:
            return None
        raise


def ensure_topic(sns, name: str, topic: str) -> str:
    """Create the topic with its policy and deploy's tag, or put deploy's statement back into
    the policy of the topic deploy created; returns "created", "updated" or "unchanged"."""
    try:
        attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    except ClientError as error:
        if error_code(error) not in MISSING_TOPIC:
            raise
        sns.create_topic(Name=name, Tags=[CREATED_BY_TAG], Attributes={
            "Policy": json.dumps(with_events_publish(None, topic))})
        return "created"
    if CREATED_BY_TAG not in (topic_tags(sns, topic) or []):
        raise ForeignResourceError(
            f"SNS topic {name} exists and was not created by deploy: delete it, or choose "
            "another --database")
    existing = json.loads(attributes["Policy"]) if attributes.get("Policy") else None
    wanted = with_events_publish(existing, topic)
    if wanted == existing:
        return "unchanged"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                             AttributeValue=json.dumps(wanted))
    return "updated"


def email_subscription(sns, topic: str, address: str) -> dict | None:
    """The topic's email subscription of ``address``, confirmed or not. Addresses are compared
    ignoring case: one mailbox typed twice in two spellings gets one subscription."""
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
        for subscription in page.get("Subscriptions", []):
            if (subscription.get("Protocol") == EMAIL_PROTOCOL
                    and subscription.get("Endpoint", "").casefold() == address.casefold()):
                return subscription
    return None


def ensure_email_subscription(sns, topic: str, address: str) -> str:
    """Subscribe ``address`` unless it is subscribed already; returns "subscribed",
    "pending confirmation" (subscribed before, not confirmed yet) or "confirmed". SNS mails a
    new subscriber a link to confirm; nothing is delivered before it is followed."""
    subscription = email_subscription(sns, topic, address)
    if subscription is None:
        sns.subscribe(TopicArn=topic, Protocol=EMAIL_PROTOCOL, Endpoint=address)
        return "subscribed"
    if subscription.get("SubscriptionArn") == PENDING_CONFIRMATION:
        return "pending confirmation"
    return "confirmed"


def delete_created_topic(sns, topic: str) -> bool:
    """Delete the topic, with its subscriptions, if deploy created it (tagged); False if absent
    or not deploy's."""
    tags = topic_tags(sns, topic)
    if tags is None or CREATED_BY_TAG not in tags:
        return False
    sns.delete_topic(TopicArn=topic)
    return True
