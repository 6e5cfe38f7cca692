package execute

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckDataPath(t *testing.T) {
	tmp := t.TempDir()
	folder := filepath.Join(tmp, "kaggle")
	os.MkdirAll(folder, 0o755)
	zip := filepath.Join(folder, "amazon_products.csv.zip")
	csv := filepath.Join(folder, "amazon_products.csv")
	for _, f := range []string{zip, csv} {
		os.WriteFile(f, []byte("x"), 0o644)
	}
	t.Chdir(tmp)
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"folder", folder, folder, ""},
		{"relative folder made absolute", "kaggle", folder, ""},
		{"zip", zip, zip, ""},
		{"csv beside its categories", csv, csv, ""},
		{"zip member", zip + "!shop_a.csv", zip + "!shop_a.csv", ""},
		{"relative zip member", "kaggle/amazon_products.csv.zip!sub/a.csv", zip + "!sub/a.csv", ""},
		{"https URL", "https://example.com/data.zip", "https://example.com/data.zip", ""},
		{"loopback http URL with member", "http://127.0.0.1:8000/x.zip!a.csv", "http://127.0.0.1:8000/x.zip!a.csv", ""},
		{"Kaggle handle", "asaniczka/amazon-products-dataset-2023-1-4m-products", "asaniczka/amazon-products-dataset-2023-1-4m-products", ""},
		{"Kaggle handle with version", "owner/name/versions/3", "owner/name/versions/3", ""},
		{"kaggle: prefix", "kaggle:owner/name", "kaggle:owner/name", ""},
		{"missing file", filepath.Join(tmp, "nope.csv"), "", "data file not found: " + filepath.Join(tmp, "nope.csv")},
		{"missing relative file is no handle", "data/products.csv", "", "data file not found: data/products.csv"},
		{"member of a missing zip", filepath.Join(tmp, "nope.zip") + "!a.csv", "", "data file not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckDataPath(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || ExitCode(err) != ExitBadInput {
					t.Fatalf("CheckDataPath(%q) = %q, %v; want exit 2 and %q", tc.in, got, err, tc.err)
				}
				if !strings.Contains(err.Error(), "Kaggle handle owner/name") {
					t.Errorf("the message does not say what is accepted: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("CheckDataPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestDataErrorIsBadInput(t *testing.T) {
	if got := ExitCode(&Failure{Kind: CellError, EName: "DataError", EValue: "x.csv: the file is empty"}); got != ExitBadInput {
		t.Errorf("a cell raising DataError exits %d, want %d", got, ExitBadInput)
	}
	if got := ExitCode(&Failure{Kind: CellError, EName: "ValueError"}); got != ExitCellError {
		t.Errorf("a cell raising ValueError exits %d, want %d", got, ExitCellError)
	}
}
