import type { WebhookDelivery } from "@pay/core/contract";
import { useState, type ReactNode } from "react";
import { Link } from "wouter";
import { CursorPager, LoadError, Loading, Time } from "../components/common.js";
import { useCursorStack } from "../components/use-cursor-stack.js";
import { useReplayWebhookEvent, useWebhookDeliveries, useWebhookEndpoint, useWebhookEndpoints } from "../data/queries.js";
import { canOperate, useSession } from "../data/session.js";
import { useI18n } from "../i18n/index.js";

export function WebhooksPage(): ReactNode {
  const { t } = useI18n();
  const endpoints = useWebhookEndpoints();
  return (
    <>
      <h1>{t("webhooks.heading")}</h1>
      {endpoints.isPending ? <Loading /> : null}
      {endpoints.isError ? <LoadError error={endpoints.error} /> : null}
      {endpoints.data === undefined ? null : endpoints.data.endpoints.length === 0 ? (
        <p>{t("webhooks.empty")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("webhooks.url")}</th>
              <th scope="col">{t("webhooks.enabled")}</th>
              <th scope="col">{t("webhooks.events")}</th>
              <th scope="col">{t("webhooks.source")}</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.data.endpoints.map((endpoint) => (
              <tr key={endpoint.id}>
                <td>
                  <Link href={`/webhooks/${encodeURIComponent(endpoint.id)}`}>{endpoint.url}</Link>
                </td>
                <td>{endpoint.enabled ? t("common.yes") : t("common.no")}</td>
                <td>{endpoint.eventTypes.join(", ")}</td>
                <td>{endpoint.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function DeliveryTimes({ delivery }: { readonly delivery: WebhookDelivery }): ReactNode {
  const { t } = useI18n();
  return (
    <ul className="plain">
      <li>
        {t("webhooks.createdAt", { at: "" })}
        <Time at={delivery.createdAt} />
      </li>
      {delivery.lastAttemptAt === null ? null : (
        <li>
          {t("webhooks.lastAttemptAt", { at: "" })}
          <Time at={delivery.lastAttemptAt} />
        </li>
      )}
      {delivery.deliveredAt === null ? null : (
        <li>
          {t("webhooks.deliveredAt", { at: "" })}
          <Time at={delivery.deliveredAt} />
        </li>
      )}
      {delivery.failedAt === null ? null : (
        <li>
          {t("webhooks.failedAt", { at: "" })}
          <Time at={delivery.failedAt} />
        </li>
      )}
    </ul>
  );
}

export function WebhookEndpointPage({ id }: { readonly id: string }): ReactNode {
  const { t } = useI18n();
  const endpoint = useWebhookEndpoint(id);
  const pages = useCursorStack();
  const deliveries = useWebhookDeliveries(id, pages.cursor);
  const session = useSession();
  const replay = useReplayWebhookEvent();
  const [replayed, setReplayed] = useState<string | null>(null);
  const operator = canOperate(session.data);
  const url = endpoint.data?.endpoint.url ?? id;
  return (
    <>
      <h1>{t("webhooks.endpointHeading", { url })}</h1>
      {endpoint.isError ? <LoadError error={endpoint.error} /> : null}
      {endpoint.data === undefined ? null : <p>{t("webhooks.counts", endpoint.data.deliveries)}</p>}
      {replayed === null ? null : <p role="status">{t("webhooks.replayQueued")}</p>}
      {replay.isError ? <p role="alert">{replay.error.message}</p> : null}
      <section aria-labelledby="webhook-deliveries">
        <h2 id="webhook-deliveries">{t("webhooks.deliveries")}</h2>
        {deliveries.isPending ? <Loading /> : null}
        {deliveries.isError ? <LoadError error={deliveries.error} /> : null}
        {deliveries.data === undefined ? null : deliveries.data.deliveries.length === 0 ? (
          <p>{t("webhooks.noDeliveries")}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t("webhooks.eventId")}</th>
                <th scope="col">{t("webhooks.type")}</th>
                <th scope="col">{t("webhooks.state")}</th>
                <th scope="col">{t("webhooks.attempts")}</th>
                <th scope="col">{t("webhooks.lastStatus")}</th>
                <th scope="col">{t("webhooks.times")}</th>
                {operator ? <th scope="col">{t("webhooks.actions")}</th> : null}
              </tr>
            </thead>
            <tbody>
              {deliveries.data.deliveries.map((delivery) => (
                <tr key={delivery.eventId}>
                  <td className="mono">
                    {delivery.eventId}
                    <br />
                    <Link href={`/orders/${encodeURIComponent(delivery.orderId)}`}>{delivery.orderId}</Link>
                  </td>
                  <td>{delivery.eventType}</td>
                  <td>{t(`deliveryState.${delivery.state}`)}</td>
                  <td className="num">{delivery.attempts}</td>
                  <td className="num">{delivery.lastStatus ?? "—"}</td>
                  <td>
                    <DeliveryTimes delivery={delivery} />
                  </td>
                  {operator ? (
                    <td>
                      <button
                        type="button"
                        disabled={replay.isPending}
                        onClick={() => {
                          setReplayed(null);
                          replay.mutate({ eventId: delivery.eventId, endpointId: id }, { onSuccess: () => setReplayed(delivery.eventId) });
                        }}
                      >
                        {t("webhooks.replay")}
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <CursorPager hasPrevious={pages.hasPrevious} nextCursor={deliveries.data?.nextCursor} onPrevious={pages.previous} onNext={pages.next} />
      </section>
    </>
  );
}
