// QuickTestPanel's "Run on: This machine | Vertex AI": the choice and the Vertex settings
// go back to the kernel, and a Vertex run links to its page in the Cloud console.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderQuickTest } from "../../js/quick_test.js";
import { XSS, fakeModel } from "./fake_model.js";

/** @type {HTMLElement} */
let el;
beforeEach(() => { el = document.createElement("div"); document.body.appendChild(el); });
afterEach(() => { el.remove(); });

const state = (overrides = {}) => ({
  _view: "quick_test", feature_configs: [], model_configs: [], feature_config_id: null, model_config_id: null,
  feature_summary: {}, model_summary: {}, needs_rating: false, rating_columns: [], rating_column: "",
  epochs_override: null, batch_size_override: null, learning_rate_override: null, choices: {}, defaults: {},
  checks: [], estimate: {}, can_start: false, running: false, stage: "", progress: 0, status: "", message: "",
  result: {}, recent: [], metrics: null, run_on: "local", vertex_settings: { project: "", region: "us-central1", bucket: "" },
  ...overrides,
});

describe("QuickTestPanel: Run on", () => {
  it("switches to Vertex AI and sends its project, region and bucket", () => {
    const model = fakeModel(state());
    const cleanup = renderQuickTest({ model, el });
    expect(el.querySelector('[role="radiogroup"][aria-label="Run on"]').textContent).toContain("This machine");
    expect(el.querySelector('[data-key="vertex:project"]')).toBeNull();
    const vertex = el.querySelector('[data-key="run_on:vertex"]');
    vertex.checked = true;
    vertex.dispatchEvent(new Event("change"));
    expect(model.state.run_on).toBe("vertex");
    const project = el.querySelector('[data-key="vertex:project"]');
    expect(el.querySelector('[data-key="vertex:region"]').value).toBe("us-central1");
    project.value = " my-project ";
    project.dispatchEvent(new Event("change"));
    const bucket = el.querySelector('[data-key="vertex:bucket"]');
    bucket.value = "gs://b/tw";
    bucket.dispatchEvent(new Event("change"));
    expect(model.state.vertex_settings).toEqual({ project: "my-project", region: "us-central1", bucket: "gs://b/tw" });
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("links a Vertex run to the console, escaped", () => {
    const url = "https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/runs/qt-9?project=p";
    const row = { id: 9, title: XSS, status: "running", status_label: "Running", ago: "now", recall_at_100: "—", loss: null, rmse: null, duration: "—", model_type: "retrieval", backend: "vertex", console_url: url };
    const model = fakeModel(state({ recent: [row, { ...row, id: 10, console_url: "" }], result: row }));
    const cleanup = renderQuickTest({ model, el });
    const links = el.querySelectorAll('a[data-key^="console:"]');
    expect(links.length).toBe(2); // the result and the first recent row; none for a local run
    expect(links[0].getAttribute("href")).toBe(url);
    expect(links[0].getAttribute("rel")).toBe("noopener noreferrer");
    expect(el.querySelector("img")).toBeNull();
    cleanup();
  });
});
