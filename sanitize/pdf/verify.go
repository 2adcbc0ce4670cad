package pdf

import (
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Verify reads a PDF and checks every object in it: no JavaScript, no
// action that launches, fetches or submits, no embedded file, no form, no
// rich media, no open or additional actions; URI actions only if allowed.
// It is the proof a disarmed file is given before it is used.
func Verify(data []byte, uriAllowed bool) (err error) {
	defer catch(&err)
	pc, err := read(data)
	if err != nil {
		return fmt.Errorf("pdf: output does not read back: %w", err)
	}
	xt := pc.XRefTable
	for nr, e := range xt.Table {
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		var d types.Dict
		switch o := e.Object.(type) {
		case types.Dict:
			d = o
		case types.StreamDict:
			d = o.Dict
		default:
			continue
		}
		if err := checkDict(d, uriAllowed, 0); err != nil {
			return fmt.Errorf("pdf: object %d: %w", nr, err)
		}
	}
	cat, err := xt.Catalog()
	if err != nil {
		return err
	}
	for _, k := range catalogKeys {
		if _, ok := cat.Find(k); ok {
			return fmt.Errorf("pdf: catalog still has /%s", k)
		}
	}
	return nil
}

func checkDict(d types.Dict, uriAllowed bool, depth int) error {
	if depth > 32 {
		return nil
	}
	for k, v := range d {
		switch k {
		case "JS", "JavaScript", "AA", "OpenAction", "EmbeddedFile", "EmbeddedFiles", "XFA", "RichMediaContent":
			return fmt.Errorf("/%s left", k)
		}
		if n, ok := v.(types.Name); ok {
			s := string(n)
			switch {
			case k == "S" && badActions[s]:
				return fmt.Errorf("/S /%s action left", s)
			case k == "S" && s == "URI" && !uriAllowed:
				return fmt.Errorf("URI action left")
			case (k == "Type" || k == "Subtype") && (s == "EmbeddedFile" || badAnnots[s]):
				return fmt.Errorf("/%s /%s left", k, s)
			}
		}
		if sub, ok := v.(types.Dict); ok {
			if err := checkDict(sub, uriAllowed, depth+1); err != nil {
				return err
			}
		}
		if arr, ok := v.(types.Array); ok {
			for _, x := range arr {
				if sub, ok := x.(types.Dict); ok {
					if err := checkDict(sub, uriAllowed, depth+1); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
