// The office's time zones are picked from the ones this browser knows (IANA names),
// with search, never typed.
import { Select } from "antd";

/** This browser's own time zone: where the office most likely is. */
export const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const ZONES = Intl.supportedValuesOf("timeZone").map((zone) => ({ value: zone, label: zone.replaceAll("_", " ") }));

/** A time zone picker; `placeholder` shows while none is chosen (when that is allowed). */
export default function TimeZoneSelect(props: {
  value?: string | null;
  onChange?: (zone: string) => void;
  placeholder?: string;
  allowClear?: boolean;
  ariaLabel?: string;
}) {
  return (
    <Select
      showSearch
      optionFilterProp="label"
      style={{ width: 240 }}
      aria-label={props.ariaLabel}
      value={props.value || undefined}
      onChange={(zone?: string) => props.onChange?.(zone ?? "")}
      allowClear={props.allowClear}
      placeholder={props.placeholder}
      options={ZONES}
    />
  );
}
