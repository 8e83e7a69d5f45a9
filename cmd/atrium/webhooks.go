package main

import (
	"log/slog"

	"atrium/internal/config"
	"atrium/internal/webhook"
)

// startWebhookPoller runs the outgoing webhooks' due deliveries on this
// instance until the returned stop is called; stop lets the batch in
// progress finish (each attempt is bounded by 10 seconds) for up to
// SHUTDOWN_TIMEOUT_SECONDS. Every instance runs one: claims keep two from
// sending the same attempt. This file is the one place a job queue's
// worker replaces: it would call store.WebhookService.Deliver with the id
// of each delivery enqueueWebhookDeliveries queued.
func startWebhookPoller(cfg *config.Config, p *webhook.Poller, logger *slog.Logger) (stop func()) {
	go p.Run()
	return func() {
		if !p.Stop(cfg.ShutdownTimeout) {
			logger.Warn("webhook deliveries did not stop in time; their attempts return to the queue when their claims end")
		}
	}
}
