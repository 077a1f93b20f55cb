// The front end's previews answer exactly what Python answers (tests/vectors/model_configs.json).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { layerDetail, layerLabel, layerLines, towerSummary, towersIdentical } from "../../js/model.js";
import { errorStep } from "../../js/tower_builder.js";

const vectors = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "../vectors/model_configs.json"), "utf8"));

describe("shared vectors", () => {
  for (const c of vectors.cases) {
    it(c.name, () => {
      const cfg = c.config_json;
      const e = c.expect;
      expect(towerSummary(cfg.buyer_tower_layers)).toBe(e.buyer_summary);
      expect(towerSummary(cfg.product_tower_layers)).toBe(e.product_summary);
      expect(towerSummary(cfg.rating_head_layers, "None")).toBe(e.rating_head_summary);
      expect(cfg.buyer_tower_layers.length).toBe(e.buyer_layers);
      expect(cfg.product_tower_layers.length).toBe(e.product_layers);
      expect(towersIdentical(cfg)).toBe(e.towers_identical);
      for (const tower of ["buyer", "product"]) {
        const layers = cfg[`${tower}_tower_layers`];
        expect(layers.map((l) => [layerLabel(l), layerDetail(l)])).toEqual(e.layer_labels[tower]);
        expect(layerLines(layers)).toEqual(e.layer_lines[tower]);
      }
      expect(e.errors.map(errorStep)).toEqual(e.error_steps);
    });
  }
});
