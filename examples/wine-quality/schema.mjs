import { field, schema } from "@mlops/core";

/**
 * The wine-quality feature contract, declared once. Ranges are physical limits (a pH is
 * between 0 and 14, a concentration is not negative), not the ranges seen in the data.
 */
export const wineSchema = schema(
  {
    fixed_acidity: field.number({ min: 0, description: "g(tartaric acid)/dm³" }),
    volatile_acidity: field.number({ min: 0, description: "g(acetic acid)/dm³" }),
    citric_acid: field.number({ min: 0, description: "g/dm³" }),
    residual_sugar: field.number({ min: 0, description: "g/dm³" }),
    chlorides: field.number({ min: 0, description: "g(sodium chloride)/dm³" }),
    free_sulfur_dioxide: field.number({ min: 0, description: "mg/dm³" }),
    total_sulfur_dioxide: field.number({ min: 0, description: "mg/dm³" }),
    density: field.number({ min: 0.9, max: 1.1, description: "g/cm³" }),
    pH: field.number({ min: 0, max: 14 }),
    sulphates: field.number({ min: 0, description: "g(potassium sulphate)/dm³" }),
    alcohol: field.number({ min: 0, max: 100, description: "% vol." }),
    color: field.category(["red", "white"]),
    quality: field.integer({ min: 0, max: 10, description: "median of expert grades" }),
  },
  { target: "quality", description: "Vinho Verde wine quality (Cortez et al., 2009)" },
);
