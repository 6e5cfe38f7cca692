package action

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prodcat/colab-notebook-action/internal/prcomment"
)

// Metrics is what a run leaves in PROJECT_ROOT/results, as the action reports it.
type Metrics struct {
	Mode       string                `json:"mode"`
	QuickStart *prcomment.QuickStart `json:"quickstart"`
	Models     []map[string]any      `json:"models"`
	rows       []prcomment.ModelRow
}

// ReadMetrics reads results/quickstart_metrics.json and, for the full pipeline,
// results/metrics.csv. A missing file is an error only where the mode must write it.
func ReadMetrics(projectRoot, mode string) (*Metrics, error) {
	m := &Metrics{Mode: mode, Models: []map[string]any{}}
	qs := filepath.Join(projectRoot, "results", "quickstart_metrics.json")
	b, err := os.ReadFile(qs)
	switch {
	case err == nil:
		var q prcomment.QuickStart
		if err := json.Unmarshal(b, &q); err != nil {
			return nil, fmt.Errorf("%s is not the expected JSON: %w", qs, err)
		}
		m.QuickStart = &q
	case errors.Is(err, fs.ErrNotExist) && mode != "quickstart":
	default:
		return nil, fmt.Errorf("the Quick Start wrote no metrics: %w", err)
	}
	if mode != "full" {
		return m, nil
	}
	csvPath := filepath.Join(projectRoot, "results", "metrics.csv")
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, fmt.Errorf("the full pipeline wrote no model comparison: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", csvPath, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s is empty", csvPath)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimSpace(h)] = i
	}
	if _, ok := col["model"]; !ok {
		return nil, fmt.Errorf("%s has no \"model\" column (header %v)", csvPath, recs[0])
	}
	for n, rec := range recs[1:] {
		row := map[string]any{}
		for name, i := range col {
			if i >= len(rec) {
				return nil, fmt.Errorf("%s line %d has %d fields, header has %d", csvPath, n+2, len(rec), len(col))
			}
			if name == "model" {
				row[name] = rec[i]
			} else if v, err := strconv.ParseFloat(strings.TrimSpace(rec[i]), 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
				row[name] = v
			} else {
				row[name] = rec[i]
			}
		}
		m.Models = append(m.Models, row)
		m.rows = append(m.rows, prcomment.ModelRow{
			Model: rec[col["model"]], Accuracy: field(row, "accuracy"), MacroF1: field(row, "macro_f1"),
			WeightedF1: field(row, "weighted_f1"), Top3Acc: field(row, "top3_accuracy"),
		})
	}
	return m, nil
}

// field is NaN when a column is absent or not a number, shown as "–".
func field(row map[string]any, name string) float64 {
	if v, ok := row[name].(float64); ok {
		return v
	}
	return math.NaN()
}
